#!/usr/bin/env bash
# Added latency of the full policy chain (keys, rate limits, budget, DLP on a 2 KB prompt,
# audit) next to the bare proxy and the direct upstream, c=1.
# Not a test; prints a markdown table. Env: WARDEN_BINARY (default build/warden),
# BENCH_REQUESTS (per row, default 400).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export WARDEN_BINARY=${WARDEN_BINARY:-$root/build/warden}
[[ -x $WARDEN_BINARY ]] || { echo "bench: warden binary not found at $WARDEN_BINARY (set WARDEN_BINARY)" >&2; exit 2; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); warden $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); $(date -u +%Y-%m-%dT%H:%MZ)"
exec node "$here/policy_chain.mjs"
