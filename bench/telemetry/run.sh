#!/usr/bin/env bash
# Request-thread cost of telemetry (metrics / + usage ledger / + OTLP tracing).
# Builds record_request_bench.cpp against the libraries of a warden build directory and
# runs it; prints a table (writes nothing).
# Env: WARDEN_BUILD_DIR (default build), BENCH_OUT (binary path, default
#      $WARDEN_BUILD_DIR/record_request_bench), extra args are passed to the bench
#      (--reps N --requests N --burst N --pause-ms N).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WARDEN_BUILD_DIR:-$root/build}
bin=${BENCH_OUT:-$build/record_request_bench}
ninja -C "$build" warden_core warden_common warden_engine >/dev/null
if [[ ! -x $bin || $here/record_request_bench.cpp -nt $bin || $build/libwarden_core.a -nt $bin ]]; then
  c++ -std=c++20 -O2 -g -I"$root/include" "$here/record_request_bench.cpp" -o "$bin" \
    "$build/libwarden_core.a" "$build/libwarden_engine.a" "$build/libwarden_common.a" \
    -lboost_context -lssl -lcrypto -lspdlog -lfmt -lyaml-cpp -lsqlite3 -lhs -lutf8proc -lsimdjson \
    $(pkg-config --libs openblas) -pthread
fi
"$bin" "$@"
