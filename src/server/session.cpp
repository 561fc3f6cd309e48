// One HTTP/1.1 connection: read requests under header/body/idle timeouts and size limits,
// dispatch to the endpoint table, write whole or chunked (streamed) responses, notice a
// client that goes away while its request is handled and cancel the handler.
// Single-threaded per connection: everything runs on the connection's worker io_context.
#include "session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "errors.hpp"
#include "logging.hpp"
#include "warden/common/ids.hpp"
#include "warden/config/digest.hpp"

namespace warden::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

template <class Stream>
class Session;

template <class Stream>
class SessionExchange final : public Exchange {
 public:
  SessionExchange(Session<Stream>& s, http::request<http::string_body>& req, std::string request_id)
      : s_(s), req_(req), request_id_(std::move(request_id)) {
    std::string_view target = sv(req_.target());
    auto q = target.find('?');
    path_ = target.substr(0, q);
    if (q != std::string_view::npos) query_ = target.substr(q + 1);
    keep_alive_ = req_.keep_alive();
  }

  std::string_view method() const override { return sv(req_.method_string()); }
  std::string_view path() const override { return path_; }
  std::string_view query() const override { return query_; }
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = req_.find(beast::string_view(name.data(), name.size()));
    if (it == req_.end()) return std::nullopt;
    return sv(it->value());
  }
  const std::string& body() const override { return req_.body(); }
  const std::string& request_id() const override { return request_id_; }
  std::string peer_address() const override { return s_.peer_; }

  void add_header(std::string name, std::string value) override {
    if (!started_) extra_headers_.emplace_back(std::move(name), std::move(value));
  }

  asio::awaitable<bool> respond(int status, std::string content_type, std::string body) override {
    if (started_) co_return false;
    started_ = true;
    status_ = status;
    http::response<http::string_body> res{static_cast<http::status>(status), req_.version()};
    fill_headers(res, content_type);
    const bool head = req_.method() == http::verb::head;
    const size_t size = body.size();
    if (!head) res.body() = std::move(body);
    res.content_length(size);
    if (s_.client_gone_) co_return false;
    http::response_serializer<http::string_body> sr{res};
    if (head) {
      co_return co_await s_.guarded_write([&] { return http::async_write_header(s_.stream_, sr, use_tuple); });
    }
    co_return co_await s_.guarded_write([&] { return http::async_write(s_.stream_, sr, use_tuple); });
  }

  asio::awaitable<bool> begin_stream(int status, std::string content_type) override {
    if (started_) co_return false;
    started_ = true;
    streaming_ = true;
    status_ = status;
    http::response<http::empty_body> res{static_cast<http::status>(status), req_.version()};
    fill_headers(res, content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set("x-accel-buffering", "no");  // tell buffering proxies in front of us not to
    if (req_.version() >= 11) {
      res.chunked(true);
    } else {
      chunked_ = false;
      keep_alive_ = false;
      res.keep_alive(false);
    }
    if (s_.client_gone_) co_return false;
    http::response_serializer<http::empty_body> sr{res};
    co_return co_await s_.guarded_write([&] { return http::async_write_header(s_.stream_, sr, use_tuple); });
  }

  asio::awaitable<bool> write(std::string_view bytes) override {
    if (!streaming_ || ended_ || s_.client_gone_) co_return false;
    if (bytes.empty()) co_return true;  // an empty chunk would end the body
    if (!chunked_) {
      co_return co_await s_.guarded_write(
          [&] { return asio::async_write(s_.stream_, asio::buffer(bytes.data(), bytes.size()), use_tuple); });
    }
    co_return co_await s_.guarded_write([&] {
      return asio::async_write(s_.stream_, http::make_chunk(asio::buffer(bytes.data(), bytes.size())), use_tuple);
    });
  }

  asio::awaitable<void> end_stream() override {
    if (!streaming_ || ended_) co_return;
    ended_ = true;
    if (s_.client_gone_) co_return;
    if (chunked_) co_await s_.guarded_write([&] { return asio::async_write(s_.stream_, http::make_chunk_last(), use_tuple); });
  }

  bool started() const override { return started_; }
  bool client_gone() const override { return s_.client_gone_; }
  AccessLog& access_log() override { return log_; }

  int status() const { return status_; }
  bool streaming() const { return streaming_; }
  bool ended() const { return ended_; }
  bool keep_alive() const { return keep_alive_ && !s_.state_.draining.load(std::memory_order_relaxed); }
  void set_close() { keep_alive_ = false; }

 private:
  template <class Res>
  void fill_headers(Res& res, std::string_view content_type) {
    res.set("x-request-id", request_id_);
    if (!content_type.empty()) res.set(http::field::content_type, content_type);
    for (auto& [name, value] : extra_headers_) res.insert(name, value);
    res.keep_alive(keep_alive());
  }

  Session<Stream>& s_;
  http::request<http::string_body>& req_;
  std::string request_id_;
  std::string_view path_, query_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  AccessLog log_;
  int status_ = 0;
  bool started_ = false;
  bool streaming_ = false;
  bool ended_ = false;
  bool chunked_ = true;
  bool keep_alive_ = true;
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... StreamArgs>
  Session(ServerState& state, Listener& listener, Worker& worker, bool overflow, StreamArgs&&... args)
      : state_(state),
        listener_(listener),
        worker_(worker),
        stream_(std::forward<StreamArgs>(args)...),
        write_timer_(stream_.get_executor()),
        watcher_wait_(stream_.get_executor()) {
    overflow_ = overflow;
    beast::error_code ec;
    auto ep = socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    socket().set_option(tcp::no_delay(true), ec);
  }

  asio::awaitable<void> run() {
    auto self = this->shared_from_this();
    handle_.close = [this] { close_socket(); };
    handle_.listener = &listener_;
    std::list<SessionHandle*>::iterator it;
    {
      std::lock_guard lock(worker_.mu);
      worker_.sessions.push_back(&handle_);
      it = std::prev(worker_.sessions.end());
    }
    try {
      co_await serve();
    } catch (const std::exception& e) {
      spdlog::warn("connection from {} ended on an exception: {}", peer_, e.what());
    }
    {
      std::lock_guard lock(worker_.mu);
      worker_.sessions.erase(it);
    }
    close_socket();
    if (overflow_) listener_.overflow.fetch_sub(1, std::memory_order_relaxed);
    else listener_.admitted.fetch_sub(1, std::memory_order_relaxed);
    listener_.connections.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  friend class SessionExchange<Stream>;

  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  void close_socket() {
    beast::error_code ec;
    socket().close(ec);
  }

  // A write that may not take longer than idle_timeout_ms (a client that stops reading
  // must not hold the connection); false when the client is gone.
  template <class Initiate>
  asio::awaitable<bool> guarded_write(Initiate&& initiate) {
    if (client_gone_) co_return false;
    write_timer_.expires_after(milliseconds(write_timeout_ms_));
    write_timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto s = weak.lock()) {
        s->client_gone_ = true;
        s->close_socket();
      }
    });
    auto [ec, n] = co_await initiate();
    write_timer_.cancel();
    if (ec) {
      client_gone_ = true;
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<void> serve() {
    write_timeout_ms_ = state_.store->current()->server.limits.idle_timeout_ms;
    if constexpr (kTls) {
      tcp_layer().expires_after(milliseconds(state_.store->current()->server.limits.header_timeout_ms));
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (ec) co_return;
    }
    bool first = true;
    for (;;) {
      handle_.busy = false;
      if (state_.draining.load(std::memory_order_relaxed)) break;
      auto cfg = state_.store->current();
      const auto& lim = cfg->server.limits;
      write_timeout_ms_ = lim.idle_timeout_ms;
      if (buffer_.size() == 0) {
        // Waiting for the next request: the first gets header_timeout, later ones idle_timeout.
        // Meanwhile the connection may be evicted to admit a new one at max_connections.
        tcp_layer().expires_after(milliseconds(first ? lim.header_timeout_ms : lim.idle_timeout_ms));
        if (!overflow_)  // an overflow connection holds no slot: closing it would free none
          handle_.idle_since.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                                   std::memory_order_release);
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(8192), use_tuple);
        handle_.idle_since.store(-1, std::memory_order_release);
        if (ec) break;
        buffer_.commit(n);
      }
      first = false;
      handle_.busy = true;
      const auto started = std::chrono::steady_clock::now();
      // Pin the snapshot that was current when the request arrived.
      cfg = state_.store->current();
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg->server.limits.max_header_bytes));
      parser.body_limit(static_cast<std::uint64_t>(cfg->server.limits.max_body_bytes));
      tcp_layer().expires_after(milliseconds(cfg->server.limits.header_timeout_ms));
      {
        auto ec = co_await read_head(parser, static_cast<size_t>(cfg->server.limits.max_header_bytes));
        if (ec) {
          co_await reject(ec, parser, *cfg, started);
          break;
        }
        if (auto bad = framing_error(parser.get())) {
          // RFC 9112 §6.3/§3.2: a body we cannot frame, or no Host, is answered 400 and the
          // connection closed (its remaining bytes must never be read as another request).
          co_await reject_with(400, "bad_request", *bad, parser, *cfg, started);
          break;
        }
      }
      if (!parser.is_done()) {
        if (iequals(sv(parser.get()[http::field::expect]), "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          tcp_layer().expires_never();
          if (!co_await guarded_write([&] { return asio::async_write(stream_, asio::buffer(kContinue), use_tuple); }))
            break;
        }
        tcp_layer().expires_after(milliseconds(cfg->server.limits.body_timeout_ms));
        auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
        if (ec) {
          co_await reject(ec, parser, *cfg, started);
          break;
        }
      }
      tcp_layer().expires_never();
      if (overflow_ && !is_health_path(sv(parser.get().target()))) {
        if (!co_await wait_for_slot()) break;
      }
      bool keep = co_await handle(parser.get(), cfg, started);
      if (!keep || client_gone_) break;
    }
    co_await close_gracefully(buffer_.size() > 0);
  }

  // Reads the request head into `parser`, counting every byte of it against `limit`. Beast's
  // own header_limit bounds only the not-yet-parsed window (fields are consumed as they
  // parse), so a head of many tiny fields slipped through; here the whole head counts.
  asio::awaitable<beast::error_code> read_head(http::request_parser<http::string_body>& parser, size_t limit) {
    size_t head = 0;
    for (;;) {
      if (buffer_.size() > 0) {
        beast::error_code ec;
        parser.header_limit(static_cast<std::uint32_t>(limit > head ? limit - head : 0));
        const size_t used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        head += used;
        if (!ec && parser.is_header_done()) co_return ec;
        if (ec && ec != http::error::need_more) co_return ec;
        if (head >= limit) co_return http::error::header_limit;
      }
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(8192), use_tuple);
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        co_return parser.got_some() ? beast::error_code(http::error::partial_message)
                                    : beast::error_code(http::error::end_of_stream);
      if (ec) co_return ec;
      buffer_.commit(n);
    }
  }

  // A request head warden will not serve: an empty optional when it is well framed.
  static std::optional<std::string> framing_error(const http::request<http::string_body>& req) {
    int te = 0;
    bool te_ok = true;
    for (const auto& f : req) {
      if (f.name() != http::field::transfer_encoding) continue;
      ++te;
      std::string_view v = sv(f.value());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      te_ok = te_ok && iequals(v, "chunked");
    }
    if (te > 1 || !te_ok) return "Unsupported Transfer-Encoding (only a single 'chunked' is accepted)";
    const auto hosts = req.count(http::field::host);
    if (hosts > 1) return std::string("More than one Host header");
    if (hosts == 0 && req.version() >= 11) return std::string("HTTP/1.1 request without a Host header");
    return std::nullopt;
  }

  static bool is_health_path(std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    return path == "/healthz" || path == "/readyz";
  }

  // An overflow connection's non-health request waits until the listener is back within
  // max_connections, asking (at most every 200 ms) for the longest-idle connection to be
  // closed. False when the server drains first.
  asio::awaitable<bool> wait_for_slot() {
    asio::steady_timer timer(stream_.get_executor());
    auto asked = std::chrono::steady_clock::time_point{};
    while (!listener_.try_admit(state_.store->current()->server.limits.max_connections)) {
      if (state_.draining.load(std::memory_order_relaxed)) co_return false;
      const auto now = std::chrono::steady_clock::now();
      if (now - asked >= milliseconds(200) && state_.evict_idle && state_.evict_idle(listener_)) asked = now;
      timer.expires_after(milliseconds(2));
      co_await timer.async_wait(use_tuple);
    }
    overflow_ = false;
    co_return true;
  }

  // The request could not be read: answer when it is worth it (limits, malformed), then close.
  asio::awaitable<void> reject(beast::error_code ec, http::request_parser<http::string_body>& parser,
                               const config::Config& cfg, std::chrono::steady_clock::time_point started) {
    int status = 0;
    std::string code, message;
    if (ec == http::error::body_limit) {
      status = 413;
      code = "request_too_large";
      message = "Request body exceeds the limit of " + std::to_string(cfg.server.limits.max_body_bytes) + " bytes";
    } else if (ec == http::error::header_limit) {
      status = 431;
      code = "headers_too_large";
      message = "Request headers exceed the limit of " + std::to_string(cfg.server.limits.max_header_bytes) + " bytes";
    } else if (ec == beast::error::timeout) {
      status = 408;
      code = "request_timeout";
      message = "The request was not received in time";
    } else if (ec.category() == beast::error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
               ec != http::error::partial_message) {
      status = 400;
      code = "bad_request";
      message = "Malformed HTTP request";
    }
    if (!status || client_gone_) co_return;
    co_await reject_with(status, std::move(code), std::move(message), parser, cfg, started);
  }

  asio::awaitable<void> reject_with(int status, std::string code, std::string message,
                                    http::request_parser<http::string_body>& parser, const config::Config& cfg,
                                    std::chrono::steady_clock::time_point started) {
    if (client_gone_) co_return;
    std::string path = "-";
    std::string request_id;
    std::string method = "-";
    {
      // Whatever of the head was parsed (a too-large Content-Length stops right after it).
      auto& req = parser.get();
      std::string_view target = sv(req.target());
      if (!target.empty()) {
        path = std::string(target.substr(0, target.find('?')));
        method = std::string(sv(req.method_string()));
      }
      auto rid = sv(req["x-request-id"]);
      if (is_sane_request_id(rid)) request_id = std::string(rid);
    }
    if (request_id.empty()) request_id = new_request_id();
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set("x-request-id", request_id);
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = error_body(path, status, code, message);
    res.prepare_payload();
    tcp_layer().expires_never();
    co_await guarded_write([&] { return http::async_write(stream_, res, use_tuple); });
    AccessLog fields;
    fields.error_code = code;
    log_request(cfg, request_id, method, path, status, started, &fields);
    lingering_ = true;
  }

  asio::awaitable<bool> handle(http::request<http::string_body>& req, std::shared_ptr<const config::Config> cfg,
                               std::chrono::steady_clock::time_point started) {
    std::string request_id;
    if (auto rid = sv(req["x-request-id"]); is_sane_request_id(rid)) request_id = std::string(rid);
    else request_id = new_request_id();
    SessionExchange<Stream> ex(*this, req, std::move(request_id));
    // Counted until this frame ends, however it ends (an exception included).
    struct InFlight {
      std::atomic<int64_t>& n;
      explicit InFlight(std::atomic<int64_t>& c) : n(c) { n.fetch_add(1, std::memory_order_relaxed); }
      ~InFlight() { n.fetch_sub(1, std::memory_order_relaxed); }
    } in_flight(state_.in_flight);
    const bool admin = listener_.kind == Listener::Kind::Admin;
    const std::string_view path = ex.path();
    const std::string_view method = ex.method();
    const bool get_like = req.method() == http::verb::get || req.method() == http::verb::head;

    if (path == "/healthz") {
      if (get_like) co_await ex.respond(200, "application/json", R"({"status":"ok"})");
      else co_await method_not_allowed(ex);
    } else if (admin && !(get_like && (path == "/ui" || path == "/ui/")) && !admin_authorized(ex, *cfg)) {
      // /ui is the dashboard's static page (no data); it asks for the token itself.
      ex.access_log().error_code = "invalid_admin_token";
      ex.add_header("www-authenticate", "Bearer");
      co_await ex.respond(401, "application/json",
                          error_body(path, 401, "invalid_admin_token", "Missing or invalid admin bearer token"));
    } else if (path == "/readyz") {
      if (!get_like) co_await method_not_allowed(ex);
      else if (state_.draining.load(std::memory_order_relaxed))
        co_await ex.respond(503, "application/json", R"({"status":"draining"})");
      else co_await ex.respond(200, "application/json", R"({"status":"ready"})");
    } else {
      bool known = false;
      const Handler* handler = listener_.table->find(method, path, &known);
      if (!handler && get_like && req.method() == http::verb::head) handler = listener_.table->find("GET", path, &known);
      if (!handler && known) {
        co_await method_not_allowed(ex);
      } else if (!handler) {
        ex.access_log().error_code = "not_found";
        co_await ex.respond(404, "application/json",
                            error_body(path, 404, "not_found",
                                       "Invalid URL (" + std::string(method) + " " + std::string(path) + ")"));
      } else {
        co_await run_handler(*handler, ex, cfg);
      }
    }

    // A handler that forgot to answer, or to end its stream.
    if (!ex.started() && !client_gone_) {
      ex.access_log().error_code = "internal_error";
      co_await ex.respond(500, "application/json", error_body(path, 500, "internal_error", "The handler produced no response"));
    } else if (ex.streaming() && !ex.ended() && !client_gone_) {
      co_await ex.end_stream();
    }
    log_request(*cfg, ex.request_id(), method, path, client_gone_ && ex.status() == 0 ? 499 : ex.status(), started,
                &ex.access_log());
    co_return ex.keep_alive() && !client_gone_;
  }

  asio::awaitable<void> method_not_allowed(SessionExchange<Stream>& ex) {
    ex.access_log().error_code = "method_not_allowed";
    co_await ex.respond(405, "application/json",
                        error_body(ex.path(), 405, "method_not_allowed",
                                   "Method " + std::string(ex.method()) + " is not allowed for " + std::string(ex.path())));
  }

  bool admin_authorized(SessionExchange<Stream>& ex, const config::Config& cfg) {
    const auto& token = cfg.server.admin_token;
    if (token.empty()) return false;
    auto auth = ex.header("authorization");
    if (!auth || auth->size() < 7 || !iequals(auth->substr(0, 7), "bearer ")) return false;
    std::string_view presented = auth->substr(7);
    while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    return config::constant_time_equal(config::sha256_hex(presented), config::sha256_hex(token));
  }

  // Runs the handler while watching the socket: if the client goes away, the handler's
  // coroutine gets a terminal cancellation (its pending I/O, e.g. the upstream call, aborts).
  asio::awaitable<void> run_handler(const Handler& handler, SessionExchange<Stream>& ex,
                                    std::shared_ptr<const config::Config> cfg) {
    auto self = this->shared_from_this();
    auto executor = co_await asio::this_coro::executor;
    asio::cancellation_signal cancel;
    handler_done_ = false;
    watcher_done_ = false;
    watcher_wait_.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(executor, watch_client(cancel), asio::detached);
    auto [ep] = co_await asio::co_spawn(executor, handler(ex, std::move(cfg)),
                                        asio::bind_cancellation_slot(cancel.slot(), use_tuple));
    handler_done_ = true;
    if (!watcher_done_) {
      beast::error_code ec;
      socket().cancel(ec);
      co_await watcher_wait_.async_wait(use_tuple);
    }
    if (ep && !client_gone_) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        spdlog::error("request {}: handler failed: {}", ex.request_id(), e.what());
      } catch (...) {
        spdlog::error("request {}: handler failed", ex.request_id());
      }
      if (!ex.started()) {
        ex.access_log().error_code = "internal_error";
        co_await ex.respond(500, "application/json", error_body(ex.path(), 500, "internal_error", "Internal error"));
      } else {
        ex.set_close();  // the response is cut short; closing tells the client
        client_gone_ = true;
      }
    }
  }

  asio::awaitable<void> watch_client(asio::cancellation_signal& cancel) {
    auto self = this->shared_from_this();
    // Pipelined bytes are kept for the next request; past 64 KiB we stop watching.
    while (buffer_.size() < 65536) {
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_tuple);
      if (ec) {
        if (!handler_done_) {
          client_gone_ = true;
          cancel.emit(asio::cancellation_type::terminal);
        }
        break;
      }
      buffer_.commit(n);
    }
    watcher_done_ = true;
    watcher_wait_.cancel();
  }

  void log_request(const config::Config& cfg, std::string_view request_id, std::string_view method,
                   std::string_view path, int status, std::chrono::steady_clock::time_point started,
                   const AccessLog* fields) {
    AccessRecord r;
    r.listener = listener_.kind == Listener::Kind::Admin ? "admin" : "main";
    r.request_id = request_id;
    r.method = method;
    r.path = path;
    r.peer = peer_;
    r.status = status;
    r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    r.fields = fields;
    r.client_gone = client_gone_;
    write_access_log(cfg.server.access_log, r);
  }

  // Closing with unread request bytes makes the kernel send RST, which can destroy the
  // response before the client read it; so shut down our side and drain briefly first.
  asio::awaitable<void> close_gracefully(bool unread) {
    beast::error_code ec;
    if constexpr (kTls) {
      if (!client_gone_) {
        tcp_layer().expires_after(milliseconds(1000));
        co_await stream_.async_shutdown(use_tuple);
      }
    } else {
      socket().shutdown(tcp::socket::shutdown_send, ec);
      if ((lingering_ || unread) && !client_gone_) {
        auto deadline = std::chrono::steady_clock::now() + milliseconds(2000);
        size_t drained = 0;
        char scratch[8192];
        while (drained < (8u << 20) && std::chrono::steady_clock::now() < deadline) {
          tcp_layer().expires_at(deadline);
          auto [rec, n] = co_await tcp_layer().async_read_some(asio::buffer(scratch), use_tuple);
          if (rec) break;
          drained += n;
        }
      }
    }
    close_socket();
  }

  ServerState& state_;
  Listener& listener_;
  Worker& worker_;
  Stream stream_;
  beast::flat_buffer buffer_;
  asio::steady_timer write_timer_;
  asio::steady_timer watcher_wait_;
  SessionHandle handle_;
  std::string peer_;
  bool client_gone_ = false;
  bool handler_done_ = true;
  bool watcher_done_ = true;
  bool lingering_ = false;
  bool overflow_ = false;  // accepted past max_connections and not yet admitted
  int64_t write_timeout_ms_ = 60'000;  // from the pinned config: a client must read at least this often
};

}  // namespace

void start_plain_session(tcp::socket socket, ServerState& state, Listener& listener, Worker& worker, bool overflow) {
  auto executor = socket.get_executor();
  auto s = std::make_shared<Session<beast::tcp_stream>>(state, listener, worker, overflow, std::move(socket));
  asio::co_spawn(executor, [s]() { return s->run(); }, asio::detached);
}

void start_tls_session(tcp::socket socket, asio::ssl::context& tls, ServerState& state, Listener& listener,
                       Worker& worker, bool overflow) {
  auto executor = socket.get_executor();
  auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(state, listener, worker, overflow,
                                                                           std::move(socket), tls);
  asio::co_spawn(executor, [s]() { return s->run(); }, asio::detached);
}

}  // namespace warden::server
