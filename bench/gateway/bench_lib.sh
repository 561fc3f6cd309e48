# Shared by the gateway bench scripts (sourced, not run): tool checks, a temp folder
# whose background processes (pids+=) are killed on exit, and loopback port helpers.

bench_require() {  # bench_require TOOL...: exit 2 naming the first one missing
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (scripts/setup installs it)" >&2; exit 2; }
  done
  [[ -x $warden ]] || { echo "bench: warden binary not found at $warden (set WARDEN_BINARY)" >&2; exit 2; }
}

bench_tmp() {  # bench_tmp NAME: sets $tmp; kills $pids and removes $tmp on exit
  tmp=$(mktemp -d "/tmp/warden-$1.XXXXXX")
  chmod 755 "$tmp"  # nginx workers run as another user
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: nothing listening on port $1" >&2; return 1
}
