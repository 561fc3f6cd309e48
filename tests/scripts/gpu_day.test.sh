#!/usr/bin/env bash
# scripts/gpu-day --dry-run, here without a device: it must exit 0, check the inputs of
# every step (scripts, CMake targets, test tags, Python that parses), and leave a summary
# with a line for every step and a result line — the device run has no second chance.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

OUT="$out" "$root/scripts/gpu-day" --dry-run >"$out/stdout" 2>&1
rc=$?
cat "$out/stdout"
[ "$rc" = 0 ] || fail "gpu-day --dry-run exited $rc"
summary="$out/summary.txt"
[ -f "$summary" ] || { echo "FAIL: no summary.txt"; exit 1; }
grep -q '^# gpu-day — ' "$summary" || fail "summary has no header"
grep -q '^inputs  *ok' "$summary" || fail "the input check did not pass"
for step in env build kernels model hf perf racecheck memcheck; do
  grep -qE "^$step +(ok|skipped: dry run)" "$summary" || fail "summary has no line for step $step"
done
grep -q '^# result: ok' "$summary" || fail "summary has no ok result line"
# The listing is read whole first: `tar | grep -q` under pipefail fails whenever grep's
# early exit gets tar killed by SIGPIPE (seen once in six runs).
listing=$(tar tzf "$out/logs.tar.gz")
grep -q 'logs/env.log' <<<"$listing" || fail "logs.tar.gz lacks the env log"

# A step list is honoured: steps not named leave no line.
OUT="$out/only" GPU_DAY_STEPS=env,hf "$root/scripts/gpu-day" --dry-run >/dev/null 2>&1
grep -q '^hf ' "$out/only/summary.txt" && ! grep -q '^perf ' "$out/only/summary.txt" ||
  fail "GPU_DAY_STEPS=env,hf ran other steps"

if [ "$fails" -gt 0 ]; then echo "$fails failed"; exit 1; fi
echo "gpu-day dry run: ok"
