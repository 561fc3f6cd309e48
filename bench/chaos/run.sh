#!/usr/bin/env bash
# Chaos run (issue 15): faulty upstream, abandoning callers, warden SIGKILLed and restarted;
# then audit verify, ledger == audit == answered, budgets, leaked in-flight counts.
# Bounded: ROUNDS x ROUND_MS of load (default 5 x 4000 ms, about 40 s in all). Prints a JSON
# summary; exit 1 when a check fails.
# Env: WARDEN_BINARY (default build/warden), CHAOS_ARGS (e.g. "--rounds 8 --round-ms 6000 --seed 7").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export WARDEN_BINARY=${WARDEN_BINARY:-$root/build/warden}
exec node "$here/chaos.mjs" ${CHAOS_ARGS:-}
