#include "warden/telemetry/tracing/otlp_exporter.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <vector>

#include "warden/telemetry/metrics/registry.hpp"

namespace warden::telemetry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

Counter& spans_counter(const char* result) {
  return Registry::global().counter("warden_otlp_spans_total", "Spans handed to the OTLP exporter, by outcome.",
                                    {{"result", result}});
}

}  // namespace

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::create(OtlpExporterOptions options) {
  std::string_view url = options.endpoint;
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme)
    return Error{400, "invalid_otlp_endpoint", "telemetry.otlp.endpoint must be an http:// URL", "", ""};
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string prefix(slash == std::string_view::npos ? "" : url.substr(slash));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host, port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Error{400, "invalid_otlp_endpoint", "bad IPv6 host", "", ""};
    host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = std::string(authority.substr(close + 2));
  } else {
    const auto colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(authority.substr(colon + 1));
  }
  if (host.empty() || port.empty())
    return Error{400, "invalid_otlp_endpoint", "telemetry.otlp.endpoint has no host or port", "", ""};
  return std::unique_ptr<OtlpExporter>(new OtlpExporter(std::move(options), host, port, prefix + "/v1/traces"));
}

OtlpExporter::OtlpExporter(OtlpExporterOptions options, std::string host, std::string port, std::string target)
    : options_(std::move(options)), host_(std::move(host)), port_(std::move(port)), target_(std::move(target)) {
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool OtlpExporter::submit(Span span) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= options_.max_queue) {
      ++dropped_;
      static Counter& dropped = spans_counter("dropped");
      dropped.inc();
      return false;
    }
    queue_.push_back(std::move(span));
    ++submitted_;
  }
  wake_.notify_one();
  return true;
}

void OtlpExporter::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = submitted_;
  wake_.notify_one();
  done_.wait(lock, [&] { return exported_ + failed_ >= target || (stop_ && queue_.empty()); });
}

uint64_t OtlpExporter::exported() const {
  std::lock_guard lock(mu_);
  return exported_;
}

uint64_t OtlpExporter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void OtlpExporter::run() {
  std::vector<Span> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                   [&] { return stop_ || queue_.size() >= options_.max_batch; });
    if (queue_.empty()) {
      done_.notify_all();
      if (stop_) break;
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      continue;
    }
    batch.clear();
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    // Spans of a failed batch are not retried: a collector that is down must not make
    // the queue hold stale spans while new ones are dropped.
    const bool ok = post(otlp_json(batch, options_.service_name));
    static Counter& exported = spans_counter("exported");
    static Counter& failed = spans_counter("failed");
    (ok ? exported : failed).inc(static_cast<double>(batch.size()));
    lock.lock();
    (ok ? exported_ : failed_) += batch.size();
    done_.notify_all();
  }
}

bool OtlpExporter::post(const std::string& body) {
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return false;
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
    io.run();
    if (ec) return false;
    io.restart();

    http::request<http::string_body> req{http::verb::post, target_, 11};
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "warden-otlp");
    req.body() = body;
    req.prepare_payload();
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    stream.expires_after(timeout);
    http::async_write(stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      if (!e) http::async_read(stream, buffer, res, [&](beast::error_code e2, size_t) { ec = e2; });
    });
    io.run();
    if (ec) return false;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return res.result_int() >= 200 && res.result_int() < 300;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace warden::telemetry
