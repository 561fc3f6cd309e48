// Added cost per request of telemetry (not a test; numbers go in the report): the time
// record_request + one record_attempt + begin_request take on the request thread, with
//   metrics        no Runtime (what every request pays for the Prometheus series)
//   + ledger       usage ledger on (queue append; SQLite writes happen on its thread)
//   + ledger+otlp  and the OTLP exporter on, sample 1.0, to a port nobody listens on
//                  (spans are built, queued, and dropped when the queue is full)
// Build (after `ninja -C build/o1 warden`):
//   g++ -O2 -std=c++20 -Iinclude bench/telemetry/record_request_bench.cpp \
//     build/o1/libwarden_core.a build/o1/libwarden_engine.a build/o1/libwarden_common.a \
//     -lboost_context -lssl -lcrypto -lspdlog -lfmt -lyaml-cpp -lsqlite3 -lhs -lutf8proc -lopenblas -lsimdjson \
//     -o /tmp/record_request_bench
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "warden/config/config.hpp"
#include "warden/policy/request_context.hpp"
#include "warden/providers/provider.hpp"
#include "warden/telemetry/request_telemetry.hpp"
#include "warden/telemetry/telemetry.hpp"

using namespace warden;
using Clock = std::chrono::steady_clock;

static double run(std::shared_ptr<const config::Config> cfg, int n) {
  providers::Outcome out;
  out.ok = true;
  out.usage.present = true;
  out.usage.prompt_tokens = 1000;
  out.usage.completion_tokens = 200;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    policy::RequestContext ctx;
    ctx.request_id = "req";
    ctx.config = cfg;
    ctx.alias = "fast";
    ctx.request.model = "fast";
    ctx.caller = {"k1", "t1", {}};
    telemetry::begin_request(ctx);
    ctx.attempts = 1;
    ctx.target = "up/m";
    telemetry::record_attempt(ctx, ctx.target, 1, ctx.started, out);
    ctx.status = 200;
    ctx.usage = out.usage;
    ctx.cost_usd = 0.001;
    ctx.first_token_at = ctx.started;
    telemetry::record_request(ctx, "");
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
}

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "warden-telemetry-bench";
  std::filesystem::remove_all(dir);
  auto text = [&](bool otlp) {
    std::string y = "state_dir: " + dir.string() +
                    "\nproviders: {up: {type: openai, base_url: 'http://127.0.0.1:9'}}\n"
                    "models: {fast: {targets: [{provider: up, model: m}]}}\n";
    if (otlp) y += "telemetry: {otlp: {endpoint: 'http://127.0.0.1:9', sample: 1.0}}\n";
    return config::load_config_text(y, "bench.yaml").config;
  };
  const int n = 50000;  // below the ledger queue bound, so no row is dropped
  std::shared_ptr<const config::Config> plain = text(false), traced = text(true);
  run(plain, 20000);  // warm the series caches
  std::printf("metrics only      %8.0f ns/request\n", run(plain, n));
  {
    auto rt = telemetry::Runtime::start(*plain);
    std::printf("+ ledger          %8.0f ns/request\n", run(plain, n));
  }
  {
    auto rt = telemetry::Runtime::start(*traced);
    std::printf("+ ledger + otlp   %8.0f ns/request\n", run(traced, n));
  }
  std::filesystem::remove_all(dir);
}
