// Added cost per request of telemetry (not a test; numbers go in bench/RESULTS.md): the time
// begin_request + one record_attempt + record_request take on the request thread, with
//   off            no Runtime: only the Prometheus series every request pays for
//   ledger         usage ledger on (queue append; SQLite writes happen on its thread)
//   ledger+otlp    and the OTLP exporter on, sample 1.0, posting to a collector that
//                  answers 200 (a forked child process, so its CPU is not counted)
// Requests go in bursts of --burst with a pause after each (default 500 per 20 ms =
// 25k requests/s), so the background threads keep up and nothing is dropped — the
// steady state of a busy gateway, not a queue-full drop path. Modes alternate within
// each repetition; the report gives median and min–max over repetitions of
//   wall ns        request-thread wall time per request (what a caller's latency pays;
//                  includes being preempted on a loaded box)
//   thread cpu ns  request-thread CPU time per request (the same without preemption)
//   process cpu ns whole-process CPU time per request, background threads included
//                  (what throughput pays)
// Build and run: bench/telemetry/run.sh (links against a warden build directory).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "warden/config/config.hpp"
#include "warden/policy/request_context.hpp"
#include "warden/providers/provider.hpp"
#include "warden/telemetry/request_telemetry.hpp"
#include "warden/telemetry/telemetry.hpp"

using namespace warden;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// OTLP sink in a child process: reads each POST, answers 200, keeps the connection open
// for the next one (the exporter may or may not reuse it).
int start_collector(pid_t* child) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  const pid_t pid = fork();
  if (pid == 0) {
    for (;;) {
      auto sock = std::make_shared<asio::ip::tcp::socket>(io);
      boost::system::error_code ec;
      acceptor.accept(*sock, ec);
      if (ec) continue;
      std::thread([sock] {
        boost::beast::flat_buffer buf;
        for (;;) {
          http::request<http::string_body> req;
          boost::system::error_code e;
          http::read(*sock, buf, req, e);
          if (e) return;
          http::response<http::string_body> res{http::status::ok, 11};
          res.set(http::field::content_type, "application/json");
          res.body() = "{}";
          res.keep_alive(req.keep_alive());
          res.prepare_payload();
          http::write(*sock, res, e);
          if (e || !req.keep_alive()) return;
        }
      }).detach();
    }
  }
  *child = pid;
  return port;
}

double cpu_ns() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e9 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e3;
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct Sample {
  double req_ns;
  double thread_ns;
  double cpu_ns;
};

std::string hex_id(uint64_t a, uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return buf;
}

// One measured run of n requests in bursts; contexts are built outside the timed region.
Sample run(const std::shared_ptr<const config::Config>& cfg, int n, int burst, int pause_ms, bool settle) {
  providers::Outcome out;
  out.ok = true;
  out.upstream_status = 200;
  out.response_model = "deepseek-v4-flash";
  out.finish_reason = "stop";
  out.usage.present = true;
  out.usage.prompt_tokens = 1000;
  out.usage.completion_tokens = 200;
  out.usage.cache_hit_tokens = 640;
  out.usage.reasoning_tokens = 30;
  std::vector<policy::RequestContext> ctxs(burst);
  double req_ns = 0, thread_ns = 0;
  const double cpu0 = cpu_ns();
  static uint64_t seq = 0;
  for (int done = 0; done < n; done += burst) {
    for (auto& ctx : ctxs) {
      ctx = policy::RequestContext{};
      ctx.request_id = hex_id(0x5eed, ++seq);  // 32 hex, as the server makes them
      ctx.config = cfg;
      ctx.alias = "fast";
      ctx.request.model = "fast";
      ctx.request.max_tokens = 256;
      ctx.request.stream = true;
      ctx.caller = {"key-bench", "team-bench", {}};
      ctx.response_headers.reserve(4);
    }
    const double c0 = thread_cpu_ns();
    const auto t0 = Clock::now();
    for (auto& ctx : ctxs) {
      telemetry::begin_request(ctx);
      ctx.attempts = 1;
      ctx.target = "up/deepseek-v4-flash";
      telemetry::record_attempt(ctx, ctx.target, 1, ctx.started, out);
      ctx.status = 200;
      ctx.usage = out.usage;
      ctx.cost_usd = 0.001;
      ctx.finish_reason = "stop";
      ctx.first_token_at = ctx.started;
      telemetry::record_request(ctx, "");
    }
    req_ns += std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    thread_ns += thread_cpu_ns() - c0;
    if (pause_ms) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  // Background work of these requests (ledger rows, span batches) finishes before the
  // CPU reading: wait past both writers' flush intervals.
  if (settle) std::this_thread::sleep_for(std::chrono::milliseconds(400));
  return {req_ns / n, thread_ns / n, (cpu_ns() - cpu0) / n};
}

struct Stats {
  double med, lo, hi;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, n = 20000, burst = 500, pause_ms = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--requests")) n = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--burst")) burst = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--pause-ms")) pause_ms = std::atoi(argv[i + 1]);
  }
  pid_t collector = 0;
  const int port = start_collector(&collector);

  const auto dir = std::filesystem::temp_directory_path() / ("warden-telemetry-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto text = [&](bool otlp) {
    std::string y = "state_dir: " + dir.string() +
                    "\nproviders: {up: {type: openai, base_url: 'http://127.0.0.1:9/v1'}}\n"
                    "models: {fast: {targets: [{provider: up, model: deepseek-v4-flash}]}}\n"
                    "pricing: {deepseek-v4-flash: {input_cache_hit: 0.0028, input_cache_miss: 0.14, output: 0.28}}\n";
    if (otlp) y += "telemetry: {otlp: {endpoint: 'http://127.0.0.1:" + std::to_string(port) + "', sample: 1.0}}\n";
    auto loaded = config::load_config_text(y, "bench.yaml");
    if (!loaded.config) {
      std::fprintf(stderr, "bench config rejected\n");
      std::exit(1);
    }
    return loaded.config;
  };
  std::shared_ptr<const config::Config> plain = text(false), traced = text(true);
  run(plain, 20000, burst, 0, false);  // warm the per-thread series caches

  const char* names[] = {"off", "ledger", "ledger+otlp"};
  std::vector<double> req[3], thr[3], cpu[3];
  for (int r = 0; r < reps; ++r) {
    for (int m = 0; m < 3; ++m) {
      std::unique_ptr<telemetry::Runtime> rt;
      if (m > 0) rt = telemetry::Runtime::start(m == 2 ? *traced : *plain);
      const Sample s = run(m == 2 ? traced : plain, n, burst, pause_ms, m > 0);
      req[m].push_back(s.req_ns);
      thr[m].push_back(s.thread_ns);
      cpu[m].push_back(s.cpu_ns);
    }
  }
  std::printf("%-12s %26s %26s %26s %12s %12s\n", "mode", "wall ns: med (min-max)", "thread cpu ns: med (min-max)",
              "process cpu ns: med (min-max)", "added wall", "added thread");
  const double base = stats(req[0]).med, tbase = stats(thr[0]).med;
  for (int m = 0; m < 3; ++m) {
    const Stats a = stats(req[m]), t = stats(thr[m]), b = stats(cpu[m]);
    std::printf("%-12s %8.0f (%7.0f-%7.0f) %8.0f (%7.0f-%7.0f) %8.0f (%7.0f-%7.0f) %12.0f %12.0f\n", names[m], a.med,
                a.lo, a.hi, t.med, t.lo, t.hi, b.med, b.lo, b.hi, a.med - base, t.med - tbase);
  }
  std::printf("reps %d, %d requests per mode and rep, bursts of %d with %d ms pauses; load %s\n", reps, n, burst,
              pause_ms, [] {
                static char buf[64] = "?";
                if (FILE* f = std::fopen("/proc/loadavg", "r")) {
                  if (!std::fgets(buf, sizeof buf, f)) buf[0] = 0;
                  std::fclose(f);
                  buf[std::strcspn(buf, "\n")] = 0;
                }
                return buf;
              }());
  kill(collector, SIGKILL);
  waitpid(collector, nullptr, 0);
  std::filesystem::remove_all(dir);
}
