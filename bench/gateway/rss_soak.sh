#!/usr/bin/env bash
# Memory soak and telemetry A/B (not a test; prints markdown, writes nothing):
#
#   1. RSS after 10k / 100k / 500k / 1M requests through warden with metrics + usage
#      ledger + OTLP tracing (sample 1.0, to a local collector that answers 200) on.
#      wrk (keep-alive, c=$BENCH_CONC) stops after each step's request count; VmRSS,
#      RssAnon and VmHWM of warden are read from /proc/PID/status after each step, and
#      the ledger row count and exported span count are checked at the end.
#   2. Added latency of tracing end to end: wrk c=1 against two warden processes on the
#      same upstream, OTLP off and on (ledger and metrics are always on in `serve`),
#      alternating $BENCH_AB_ROUNDS times, $BENCH_AB_SECONDS each.
#
# Upstream: nginx serving a static JSON answer (as bench/gateway/run.sh). Collector: node.
# Env: WARDEN_BINARY (default build/warden), BENCH_STEPS (default "10000 100000 500000
#      1000000"), BENCH_CONC (32), BENCH_THREADS (warden server.threads, 1),
#      BENCH_AB_ROUNDS (3), BENCH_AB_SECONDS (5), BENCH_SKIP_SOAK=1, BENCH_SKIP_AB=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
warden=${WARDEN_BINARY:-$root/build/warden}
steps=(${BENCH_STEPS:-10000 100000 500000 1000000})
conc=${BENCH_CONC:-32}
threads=${BENCH_THREADS:-1}
ab_rounds=${BENCH_AB_ROUNDS:-3}
ab_seconds=${BENCH_AB_SECONDS:-5}
source "$here/bench_lib.sh"
bench_require nginx wrk node python3 curl sqlite3
bench_tmp soak
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ---- upstream: nginx, static JSON answer for POST /v1/chat/completions
up_port=$(free_port)
mkdir -p "$tmp/www/v1" "$tmp/up"
cp "$here/upstream_body.json" "$tmp/www/v1/chat_completions"
cat > "$tmp/up/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
error_log $tmp/up/error.log warn;
pid $tmp/up/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $tmp/up/body; proxy_temp_path $tmp/up/proxy; fastcgi_temp_path $tmp/up/fcgi;
  uwsgi_temp_path $tmp/up/uwsgi; scgi_temp_path $tmp/up/scgi;
  server {
    listen 127.0.0.1:$up_port;
    root $tmp/www;
    location = /v1/chat/completions {
      rewrite ^ /v1/chat_completions break;
      error_page 405 =200 \$uri;
    }
    location = /v1/chat_completions { default_type application/json; }
  }
}
EOF
nginx -p "$tmp/up" -c "$tmp/up/nginx.conf" & pids+=($!)
wait_port "$up_port"

# ---- OTLP collector: answers 200 to every POST, counts spans (cheap substring count).
col_port=$(free_port)
cat > "$tmp/collector.mjs" <<'EOF'
import http from 'node:http';
let posts = 0, spans = 0, bytes = 0;
const key = Buffer.from('"traceId":');
http.createServer((req, res) => {
  if (req.method === 'GET') { res.end(JSON.stringify({ posts, spans, bytes })); return; }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    // Counted natively (Buffer.indexOf) so the collector takes as little CPU as it can
    // from the box it shares with warden.
    const body = Buffer.concat(parts);
    posts++; bytes += body.length;
    for (let at = body.indexOf(key); at >= 0; at = body.indexOf(key, at + key.length)) spans++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
EOF
node "$tmp/collector.mjs" "$col_port" & pids+=($!)
wait_port "$col_port"

bench_key=sk-warden-soak-key
# start_warden NAME OTLP(0|1) [BINARY] → sets wd_port, wd_pid
start_warden() {
  local name=$1 otlp=$2 bin=${3:-$warden}
  mkdir -p "$tmp/$name"
  {
    cat <<EOF
server:
  threads: $threads
  limits: {max_connections: 10000}
state_dir: $tmp/$name/var
providers:
  up:
    type: openai
    base_url: http://127.0.0.1:$up_port/v1
    api_key: sk-bench-upstream
models:
  bench-json:
    targets: [{provider: up, model: deepseek-v4-flash}]
pricing:
  deepseek-v4-flash: {input_cache_hit: 0.0028, input_cache_miss: 0.14, output: 0.28}
teams: {bench: {}}
keys:
  - {id: bench, team: bench, key: $bench_key}
EOF
    if [[ $otlp == 1 ]]; then
      echo "telemetry:"
      echo "  otlp: {endpoint: 'http://127.0.0.1:$col_port', sample: 1.0}"
    fi
  } > "$tmp/$name/warden.yaml"
  "$bin" serve -c "$tmp/$name/warden.yaml" --listen 127.0.0.1:0 > "$tmp/$name/warden.log" 2>&1 &
  wd_pid=$!
  pids+=("$wd_pid")
  wd_port=
  for _ in $(seq 1 400); do
    wd_port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$tmp/$name/warden.log" | head -1)
    [[ -n $wd_port ]] && break
    kill -0 "$wd_pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $wd_port ]] || { echo "bench: warden did not start:" >&2; cat "$tmp/$name/warden.log" >&2; exit 1; }
  local out
  out=$(curl -s -m 10 -X POST -H 'content-type: application/json' -H "authorization: Bearer $bench_key" \
        --data-binary @"$here/request_json.json" -w '\n%{http_code}' "http://127.0.0.1:$wd_port/v1/chat/completions")
  [[ ${out##*$'\n'} == 200 && $out == *Paris* ]] || { echo "bench: bad answer from warden $name: $out" >&2; exit 1; }
}

# wrk script that stops each thread after its share of $SOAK_N responses.
cat > "$tmp/count.lua" <<'EOF'
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
local threads = tonumber(os.getenv("SOAK_THREADS"))
local total = tonumber(os.getenv("SOAK_N"))
mine = 0  -- set per thread by setup() (a global: thread:set writes globals)
local seen = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  local share = math.floor(total / threads)
  if counter == threads then share = total - share * (threads - 1) end
  thread:set("mine", share)
  thread:set("id", counter)
end
-- thread:stop() only stops this thread's loop; wrk's main thread sleeps out -d, so each
-- thread leaves a marker file and the script sends SIGINT once all are there.
function response(status, headers, body)
  seen = seen + 1
  if seen == mine then
    wrk.thread:stop()
    local f = io.open(os.getenv("SOAK_MARK") .. "." .. id, "w")
    f:write("done")
    f:close()
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"non2xx\":%d,\"p50_us\":%d,\"p99_us\":%d}\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
EOF

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load at start $(load);" \
     "warden $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') ($warden); $(date -u +%Y-%m-%dT%H:%MZ)"

if [[ ${BENCH_SKIP_SOAK:-} != 1 ]]; then
  start_warden soak 1
  soak_pid=$wd_pid
  soak_port=$wd_port
  echo
  echo "### RSS soak: metrics + ledger + OTLP (sample 1.0) on, wrk c=$conc, warden threads $threads"
  echo
  echo "| requests | VmRSS MB | RssAnon MB | VmHWM MB | step rps | step p50 ms | step p99 ms | errors |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '| %s | %.1f | %.1f | %.1f | | | | |\n' "1 (idle)" "$(echo "$(status_kb $soak_pid VmRSS)/1024" | bc -l)" \
    "$(echo "$(status_kb $soak_pid RssAnon)/1024" | bc -l)" "$(echo "$(status_kb $soak_pid VmHWM)/1024" | bc -l)"
  done_n=1
  for target in "${steps[@]}"; do
    n=$(( target - done_n ))
    (( n > 0 )) || continue
    wt=2; (( conc < 2 )) && wt=1
    rm -f "$tmp"/mark.*
    BENCH_BODY=$here/request_json.json BENCH_KEY=$bench_key SOAK_N=$n SOAK_THREADS=$wt SOAK_MARK=$tmp/mark \
      wrk -t"$wt" -c"$conc" -d3600s --timeout 10s -s "$tmp/count.lua" \
      "http://127.0.0.1:$soak_port/v1/chat/completions" > "$tmp/wrk.out" &
    wrk_pid=$!
    while (( $(ls "$tmp"/mark.* 2>/dev/null | wc -l) < wt )) && kill -0 "$wrk_pid" 2>/dev/null; do sleep 0.2; done
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" || true
    line=$(sed -n 's/^WRK_JSON //p' "$tmp/wrk.out")
    [[ -n $line ]] || { echo "bench: wrk gave no result" >&2; exit 1; }
    done_n=$(( done_n + $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['requests'])" "$line") ))
    sleep 1  # let the ledger and exporter drain what this step queued
    kill -0 "$soak_pid" || { echo "bench: warden died" >&2; tail "$tmp/soak/warden.log" >&2; exit 1; }
    python3 - "$line" "$done_n" "$(status_kb $soak_pid VmRSS)" "$(status_kb $soak_pid RssAnon)" \
      "$(status_kb $soak_pid VmHWM)" <<'EOF'
import json, sys
w = json.loads(sys.argv[1]); n = int(sys.argv[2]); rss, anon, hwm = (int(x) / 1024 for x in sys.argv[3:6])
rps = w["requests"] / (w["duration_us"] / 1e6)
print(f"| {n:,} | {rss:.1f} | {anon:.1f} | {hwm:.1f} | {rps:,.0f} | {w['p50_us']/1000:.3f} | {w['p99_us']/1000:.3f} | {w['errors'] + w['non2xx']} |")
EOF
  done
  sleep 1
  rows=$(sqlite3 "$tmp/soak/var/usage.db" 'select count(*) from usage' 2>/dev/null || echo '?')
  col=$(curl -s "http://127.0.0.1:$col_port/")
  echo
  echo "Ledger rows: $rows of $done_n requests; collector: $col (2 spans per request: server + attempt); load at end $(load)."
  kill "$soak_pid"; wait "$soak_pid" 2>/dev/null || true
fi

if [[ ${BENCH_SKIP_AB:-} != 1 ]]; then
  start_warden off 0; off_port=$wd_port
  start_warden on 1; on_port=$wd_port
  variants="direct off on"
  if [[ -n ${WARDEN_BINARY_BEFORE:-} ]]; then
    start_warden before_off 0 "$WARDEN_BINARY_BEFORE"; before_off_port=$wd_port
    start_warden before_on 1 "$WARDEN_BINARY_BEFORE"; before_on_port=$wd_port
    variants="direct before_off before_on off on"
  fi
  cat > "$tmp/ab.jsonl" </dev/null
  for r in $(seq 1 "$ab_rounds"); do
    for v in $variants; do
      case $v in
        direct) url=http://127.0.0.1:$up_port/v1/chat/completions ;;
        off) url=http://127.0.0.1:$off_port/v1/chat/completions ;;
        on) url=http://127.0.0.1:$on_port/v1/chat/completions ;;
        before_off) url=http://127.0.0.1:$before_off_port/v1/chat/completions ;;
        before_on) url=http://127.0.0.1:$before_on_port/v1/chat/completions ;;
      esac
      line=$(BENCH_BODY=$here/request_json.json BENCH_KEY=$bench_key wrk -t1 -c1 -d"${ab_seconds}s" --timeout 10s \
             -s "$here/post.lua" "$url" | sed -n 's/^WRK_JSON //p')
      echo "{\"v\":\"$v\",\"r\":$r,\"w\":$line}" >> "$tmp/ab.jsonl"
    done
  done
  echo
  echo "### Tracing end to end: wrk c=1, ${ab_seconds} s per cell, $ab_rounds rounds alternating (metrics + ledger on in both)"
  echo
  python3 - "$tmp/ab.jsonl" "$(load)" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows: by.setdefault(r["v"], []).append(r["w"])
def med(v, k): return statistics.median(x[k] for x in by[v])
def rng(v, k): xs = [x[k] for x in by[v]]; return min(xs), max(xs)
print("| target | p50 µs median (min–max) | mean µs median (min–max) | rps median | errors |")
print("|---|---:|---:|---:|---:|")
names = (("direct", "direct upstream"), ("before_off", "warden before, OTLP off"), ("before_on", "warden before, OTLP on"),
         ("off", "warden, OTLP off"), ("on", "warden, OTLP on"))
for v, name in names:
    if v not in by: continue
    lo, hi = rng(v, "p50_us"); mlo, mhi = rng(v, "mean_us")
    rps = statistics.median(x["requests"] / (x["duration_us"] / 1e6) for x in by[v])
    err = sum(x["socket_errors"] + x["non2xx"] for x in by[v])
    print(f"| {name} | {med(v,'p50_us'):.0f} ({lo}–{hi}) | {med(v,'mean_us'):.1f} ({mlo:.1f}–{mhi:.1f}) | {rps:,.0f} | {err} |")
print()
# Paired per round: on − off (same binary, same round, back to back), so load drift cancels.
for off, on, label in (("before_off", "before_on", "before"), ("off", "on", "this build")):
    if off not in by: continue
    d50 = sorted(b["p50_us"] - a["p50_us"] for a, b in zip(by[off], by[on]))
    dmean = sorted(b["mean_us"] - a["mean_us"] for a, b in zip(by[off], by[on]))
    added = statistics.median(x["p50_us"] for x in by[off]) - statistics.median(x["p50_us"] for x in by["direct"])
    print(f"- {label}: tracing adds p50 {statistics.median(d50):+.0f} µs (per round {', '.join(f'{x:+d}' for x in d50)}), "
          f"mean {statistics.median(dmean):+.1f} µs (per round {', '.join(f'{x:+.1f}' for x in dmean)}); "
          f"warden with OTLP off adds {added:.0f} µs p50 over direct.")
print()
print(f"wrk reports whole microseconds. Load at end {sys.argv[2]}.")
EOF
fi
