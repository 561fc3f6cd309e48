#!/usr/bin/env bash
# Engine bench: decode/prefill tokens/s at batch 1/8/32 on the ~100M-parameter random
# model (make-tiny --preset bench-100m) against this machine's copy bandwidth measured in
# the same run, and prefix-hit vs miss TTFT. Writes the engine section of bench/RESULTS.md.
#
# Env: WARDEN_BUILD_DIR (default build/bench-engine: an engine-only build made here),
#      BENCH_BATCHES (default 1,8,32), BENCH_PROMPT (128), BENCH_GEN (32),
#      BENCH_TTFT_PROMPT (512), BENCH_NO_WRITE=1 (print only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WARDEN_BUILD_DIR:-$root/build/bench-engine}
if [[ ! -f $build/libwarden_engine.a ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDEN_ENGINE_ONLY=ON -DWARDEN_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target warden engine_bench >/dev/null
model=$build/bench-100m
[[ -f $model/config.json ]] || "$build/warden" model make-tiny --preset bench-100m --out "$model" >&2
bin=$build/bench/engine/engine_bench
out=$(mktemp)
"$bin" --model "$model" --batches "${BENCH_BATCHES:-1,8,32}" --prompt "${BENCH_PROMPT:-128}" \
  --gen "${BENCH_GEN:-32}" --ttft-prompt "${BENCH_TTFT_PROMPT:-512}" | tee "$out"
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
printf '\nMachine: %s, %s cores, load %s; warden %s; %s.\n' "$cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$out"
tail -1 "$out"
if [[ ${BENCH_NO_WRITE:-} != 1 ]]; then
  python3 - "$out" "$root/bench/RESULTS.md" <<'PY'
import os, re, sys
section = open(sys.argv[1]).read().strip()
path = sys.argv[2]
begin, end = "<!-- engine:begin -->", "<!-- engine:end -->"
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
rm -f "$out"
