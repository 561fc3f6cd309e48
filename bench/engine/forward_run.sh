#!/usr/bin/env bash
# Backend-only bench (Backend::forward, no scheduler/sampler) on the ~100M-parameter
# random model, against copy bandwidth and sgemm FLOP/s measured in the same run.
# Env: WARDEN_BUILD_DIR (default build/bench-engine), BENCH_BATCHES (1,8,32),
#      BENCH_CONTEXT (128), BENCH_STEPS (8). Prints a markdown section; writes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WARDEN_BUILD_DIR:-$root/build/bench-engine}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDEN_ENGINE_ONLY=ON -DWARDEN_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target warden forward_bench >/dev/null
model=$build/bench-100m-novocab
[[ -f $model/config.json ]] || "$build/warden" model make-tiny --preset bench-100m --vocab none --out "$model" >&2
bin=$build/bench/engine/forward_bench
"$bin" --model "$model" --batches "${BENCH_BATCHES:-1,8,32}" --context "${BENCH_CONTEXT:-128}" --steps "${BENCH_STEPS:-8}"
printf '\nMachine: %s, %s cores, load %s.\n' "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
  "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
