#!/usr/bin/env bash
# Gateway overhead benchmark (not a test): how much latency and throughput warden
# costs compared with calling the upstream directly and with nginx as a reference
# reverse proxy.
#
#   upstream  nginx serving a static DeepSeek-like JSON body and a static 100-chunk SSE
#             body (POST accepted), on loopback
#   direct    wrk → upstream
#   nginx     wrk → nginx proxy_pass (upstream keepalive) → upstream
#   warden    wrk → warden → upstream
#
# wrk runs at c=1 and c=32 for $BENCH_DURATION seconds each. Prints a table and
# writes it, with the date and the machine, into bench/RESULTS.md (gateway section).
#
# Env: WARDEN_BINARY (default build/warden), BENCH_DURATION (s, default 10),
#      BENCH_THREADS (warden threads = nginx proxy workers; default max(1, nproc/2)),
#      BENCH_NO_WRITE=1 (print only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
warden=${WARDEN_BINARY:-$root/build/warden}
duration=${BENCH_DURATION:-10}
ncpu=$(nproc)
threads=${BENCH_THREADS:-$(( ncpu / 2 > 0 ? ncpu / 2 : 1 ))}

source "$here/bench_lib.sh"
bench_require nginx wrk python3
bench_tmp bench

up_port=$(free_port)
px_port=$(free_port)

# ---- upstream: static bodies; POST to a static file is turned into a GET by error_page.
mkdir -p "$tmp/www/json/v1" "$tmp/www/sse/v1" "$tmp/up" "$tmp/px"
for d in json json/v1; do cp "$here/upstream_body.json" "$tmp/www/$d/chat_completions"; done
for d in sse sse/v1; do cp "$here/upstream_stream.sse" "$tmp/www/$d/chat_completions"; done

nginx_common() {
  cat <<EOF
daemon off;
master_process on;
error_log $1/error.log warn;
pid $1/nginx.pid;
events { worker_connections 4096; }
EOF
}
http_common() {
  cat <<EOF
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi;
  uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
EOF
}

{
  nginx_common "$tmp/up"
  echo "worker_processes 1;"
  echo "http {"
  http_common "$tmp/up"
  cat <<EOF
  server {
    listen 127.0.0.1:$up_port;
    root $tmp/www;
    location ~ ^/(json|sse)(/v1)?/chat/completions\$ {
      rewrite ^/(json|sse)(/v1)?/chat/completions\$ /\$1\$2/chat_completions break;
      error_page 405 =200 \$uri;
    }
    location ~ /json(/v1)?/chat_completions\$ { default_type application/json; }
    location ~ /sse(/v1)?/chat_completions\$ { default_type text/event-stream; }
  }
}
EOF
} > "$tmp/up/nginx.conf"

# ---- reference proxy: nginx proxy_pass with upstream keepalive, same workers as warden.
{
  nginx_common "$tmp/px"
  echo "worker_processes $threads;"
  echo "http {"
  http_common "$tmp/px"
  cat <<EOF
  upstream up { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$px_port;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /sse/ {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
} > "$tmp/px/nginx.conf"

nginx -p "$tmp/up" -c "$tmp/up/nginx.conf" & pids+=($!)
nginx -p "$tmp/px" -c "$tmp/px/nginx.conf" & pids+=($!)
wait_port "$up_port"
wait_port "$px_port"

# ---- warden
bench_key=sk-warden-bench-key
cat > "$tmp/warden.yaml" <<EOF
server:
  threads: $threads
  limits: {max_connections: 10000}
state_dir: $tmp/var
providers:
  upj:
    type: openai
    base_url: http://127.0.0.1:$up_port/json
    api_key: sk-bench-upstream
  ups:
    type: openai
    base_url: http://127.0.0.1:$up_port/sse
    api_key: sk-bench-upstream
models:
  bench-json:
    targets: [{provider: upj, model: deepseek-v4-flash}]
  bench-sse:
    targets: [{provider: ups, model: deepseek-v4-flash}]
teams: {bench: {}}
keys:
  - {id: bench, team: bench, key: $bench_key}
EOF
"$warden" serve -c "$tmp/warden.yaml" --listen 127.0.0.1:0 > "$tmp/warden.log" 2>&1 & warden_pid=$!
pids+=("$warden_pid")
wd_port=
for _ in $(seq 1 200); do
  wd_port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$tmp/warden.log" | head -1)
  [[ -n $wd_port ]] && break
  kill -0 "$warden_pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $wd_port ]] || { echo "bench: warden did not start:" >&2; cat "$tmp/warden.log" >&2; exit 1; }

# Sanity: every path answers 200 with the expected body before measuring.
check() {
  local url=$1 body=$2 key=$3 want=$4
  local out
  out=$(curl -s -m 10 -X POST -H 'content-type: application/json' ${key:+-H "authorization: Bearer $key"} \
        --data-binary @"$body" -w '\n%{http_code}' "$url")
  [[ ${out##*$'\n'} == 200 && $out == *"$want"* ]] || { echo "bench: bad answer from $url:" >&2; echo "$out" | tail -c 600 >&2; exit 1; }
}
rq_json=$here/request_json.json
rq_sse=$here/request_sse.json
check "http://127.0.0.1:$up_port/json/chat/completions" "$rq_json" "" 'Paris'
check "http://127.0.0.1:$px_port/json/chat/completions" "$rq_json" "" 'Paris'
check "http://127.0.0.1:$wd_port/v1/chat/completions" "$rq_json" "$bench_key" 'Paris'
check "http://127.0.0.1:$up_port/sse/chat/completions" "$rq_sse" "" 'tok99'
check "http://127.0.0.1:$px_port/sse/chat/completions" "$rq_sse" "" 'tok99'
check "http://127.0.0.1:$wd_port/v1/chat/completions" "$rq_sse" "$bench_key" 'tok99'

rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rss_idle=$(rss_kb "$warden_pid" VmRSS)

results=$tmp/results.jsonl
: > "$results"
# run NAME TARGET CONC URL BODY KEY
run() {
  local name=$1 target=$2 conc=$3 url=$4 body=$5 key=$6 wt=1
  (( conc > 1 )) && wt=2
  local line
  line=$(BENCH_BODY=$body BENCH_KEY=$key wrk -t"$wt" -c"$conc" -d"${duration}s" --timeout 10s \
         -s "$here/post.lua" "$url" | sed -n 's/^WRK_JSON //p')
  [[ -n $line ]] || { echo "bench: wrk gave no result for $name/$target/c=$conc" >&2; exit 1; }
  echo "{\"case\":\"$name\",\"target\":\"$target\",\"c\":$conc,\"wrk\":$line}" >> "$results"
  echo "  $name $target c=$conc: $line" >&2
}

rss_load=0
sample_rss() {  # max VmRSS of warden while a run is in progress
  local m=0 v
  while kill -0 "$1" 2>/dev/null && [[ -f $tmp/sampling ]]; do
    v=$(rss_kb "$warden_pid" VmRSS || echo 0)
    (( v > m )) && m=$v && echo "$m" > "$tmp/rss_load"
    sleep 0.2
  done
}

echo "bench: duration ${duration}s, warden threads = nginx workers = $threads, nproc $ncpu" >&2
for conc in 1 32; do
  run json direct "$conc" "http://127.0.0.1:$up_port/json/chat/completions" "$rq_json" ""
  run json nginx "$conc" "http://127.0.0.1:$px_port/json/chat/completions" "$rq_json" ""
  [[ $conc == 32 ]] && { touch "$tmp/sampling"; sample_rss "$warden_pid" & sampler=$!; }
  run json warden "$conc" "http://127.0.0.1:$wd_port/v1/chat/completions" "$rq_json" "$bench_key"
  [[ $conc == 32 ]] && { rm -f "$tmp/sampling"; wait "$sampler" || true; }
done
for conc in 1 32; do
  run sse direct "$conc" "http://127.0.0.1:$up_port/sse/chat/completions" "$rq_sse" ""
  run sse nginx "$conc" "http://127.0.0.1:$px_port/sse/chat/completions" "$rq_sse" ""
  run sse warden "$conc" "http://127.0.0.1:$wd_port/v1/chat/completions" "$rq_sse" "$bench_key"
done
rss_load=$(cat "$tmp/rss_load" 2>/dev/null || echo 0)
rss_peak=$(rss_kb "$warden_pid" VmHWM)
kill -0 "$warden_pid" 2>/dev/null || { echo "bench: warden died during the run" >&2; tail -50 "$tmp/warden.log" >&2; exit 1; }

cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
BENCH_RESULTS=$results BENCH_RSS_IDLE=$rss_idle BENCH_RSS_LOAD=$rss_load BENCH_RSS_PEAK=$rss_peak \
BENCH_NPROC=$ncpu BENCH_CPU="$cpu_model" BENCH_THREADS=$threads BENCH_DURATION=$duration \
BENCH_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" BENCH_WARDEN_REV="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
BENCH_WRITE=$([[ ${BENCH_NO_WRITE:-} == 1 ]] && echo 0 || echo 1) BENCH_RESULTS_MD="$root/bench/RESULTS.md" \
  python3 "$here/report.py"
