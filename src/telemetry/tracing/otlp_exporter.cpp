#include "warden/telemetry/tracing/otlp_exporter.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// One HTTP/1.1 connection to the collector, reused across batches while the collector
// keeps it open (a fresh TCP connection per batch costs more than encoding the batch).
class OtlpExporter::Connection {
 public:
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;

  void close() {
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream.socket().close(ec);
    buffer.clear();
    open = false;
  }
};

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
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(std::move(port)),
      target_(std::move(target)),
      capacity_(std::max<size_t>(options_.max_queue, 1)),
      seqs_(new Slot[capacity_]),
      records_(new SpanRecord[capacity_]),
      conn_(std::make_unique<Connection>()) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  for (size_t i = 0; i < capacity_; ++i) seqs_[i].seq.store(i, std::memory_order_relaxed);
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  thread_.join();
}

bool OtlpExporter::submit(const Span& span) {
  // Conversion happens here, not in the ring, so the ring stays lock-free; this path is
  // for callers outside the request hot path (tests, tools).
  auto r = std::make_unique<SpanRecord>();
  SpanRecord::from_span(span, *r);
  return submit(*r);
}

bool OtlpExporter::submit(const SpanRecord& span) {
  static Counter& dropped_total = spans_counter("dropped");
  if (stop_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    dropped_total.inc();
    return false;
  }
  uint64_t pos = head_.load(std::memory_order_relaxed);
  Slot* slot;
  for (;;) {
    slot = &seqs_[pos % capacity_];
    const uint64_t seq = slot->seq.load(std::memory_order_acquire);
    const auto diff = static_cast<int64_t>(seq - pos);
    if (diff == 0) {
      if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {  // the slot still holds a record from one lap ago: full
      dropped_.fetch_add(1, std::memory_order_relaxed);
      dropped_total.inc();
      return false;
    } else {
      pos = head_.load(std::memory_order_relaxed);
    }
  }
  span.copy_to(records_[pos % capacity_]);
  slot->seq.store(pos + 1, std::memory_order_release);
  submitted_.fetch_add(1, std::memory_order_release);
  // Wake the exporter only when a full batch is waiting (otherwise it wakes on its own
  // every flush interval), and only once per wait: wake_pending_ is cleared by the
  // exporter under mu_ just before it checks its predicate and sleeps, and taking mu_
  // here closes the window between that check and the wait.
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  if (pos + 1 > tail && pos + 1 - tail >= options_.max_batch &&
      !wake_pending_.load(std::memory_order_relaxed) && !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    { std::lock_guard lock(mu_); }
    wake_.notify_one();
  }
  return true;
}

void OtlpExporter::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = submitted_.load(std::memory_order_acquire);
  flush_requested_ = true;
  wake_.notify_one();
  done_.wait(lock, [&] { return exported_ + failed_ >= target || finished_; });
}

uint64_t OtlpExporter::exported() const {
  std::lock_guard lock(mu_);
  return exported_;
}

uint64_t OtlpExporter::dropped() const { return dropped_.load(std::memory_order_relaxed); }

void OtlpExporter::run() {
  // Tracing is best effort: on a box with few cores, encoding a batch must not take the
  // CPU from I/O threads serving requests (nice 10 on this thread only; Linux applies
  // setpriority to a thread id). If it falls behind, the ring fills and spans are
  // dropped and counted, which is the documented overload behaviour.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  static Counter& exported_total = spans_counter("exported");
  static Counter& failed_total = spans_counter("failed");
  std::string body;
  body.reserve(options_.max_batch * 1024);  // one allocation for the thread's life, typically
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_pending_.store(false, std::memory_order_release);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms), [&] {
        return stop_.load() || flush_requested_ ||
               head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_relaxed) >= options_.max_batch;
      });
      flush_requested_ = false;
    }
    const bool stopping = stop_.load();
    // Everything published so far, in batches. A record is encoded straight from its slot,
    // then the slot is handed back to producers.
    for (;;) {
      body.clear();
      otlp_json_open(body, options_.service_name);
      size_t n = 0;
      while (n < options_.max_batch) {
        const uint64_t pos = tail_.load(std::memory_order_relaxed);
        Slot& slot = seqs_[pos % capacity_];
        if (slot.seq.load(std::memory_order_acquire) != pos + 1) break;  // empty, or a producer mid-copy
        if (n) body += ',';
        records_[pos % capacity_].append_otlp_json(body);
        slot.seq.store(pos + capacity_, std::memory_order_release);
        tail_.store(pos + 1, std::memory_order_relaxed);
        ++n;
      }
      if (n == 0) break;
      otlp_json_close(body);
      // Spans of a failed batch are not retried: a collector that is down must not make
      // the queue hold stale spans while new ones are dropped.
      const bool ok = post(body);
      (ok ? exported_total : failed_total).inc(static_cast<double>(n));
      std::lock_guard lock(mu_);
      (ok ? exported_ : failed_) += n;
      done_.notify_all();
    }
    {
      std::lock_guard lock(mu_);
      done_.notify_all();
    }
    if (stopping) break;
  }
  conn_->close();
  std::lock_guard lock(mu_);
  finished_ = true;
  done_.notify_all();
}

bool OtlpExporter::post(std::string& body) {
  Connection& c = *conn_;
  const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
  http::request<http::string_body> req{http::verb::post, target_, 11};
  // The body moves into the request and back, so its capacity is reused batch after batch.
  struct GiveBack {
    std::string& to;
    http::request<http::string_body>& req;
    ~GiveBack() { to = std::move(req.body()); }
  } give_back{body, req};
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "warden-otlp");
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  // A kept-alive connection the collector closed meanwhile fails at once: one more try on
  // a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = c.open;
    try {
      beast::error_code ec;
      if (!c.open) {
        asio::ip::tcp::resolver resolver(c.io);
        auto endpoints = resolver.resolve(host_, port_, ec);
        if (ec) return false;
        c.io.restart();
        c.stream.expires_after(timeout);
        c.stream.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
        c.io.run();
        if (ec) {
          c.close();
          return false;
        }
        c.open = true;
      }
      http::response<http::string_body> res;
      c.io.restart();
      c.stream.expires_after(timeout);
      http::async_write(c.stream, req, [&](beast::error_code e, size_t) {
        ec = e;
        if (!e) http::async_read(c.stream, c.buffer, res, [&](beast::error_code e2, size_t) { ec = e2; });
      });
      c.io.run();
      if (ec) {
        c.close();
        if (reused && ec != beast::error::timeout) continue;
        return false;
      }
      if (!res.keep_alive()) c.close();
      return res.result_int() >= 200 && res.result_int() < 300;
    } catch (const std::exception&) {
      c.close();
      return false;
    }
  }
  return false;
}

}  // namespace warden::telemetry
