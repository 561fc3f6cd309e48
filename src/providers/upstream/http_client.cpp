#include "warden/providers/upstream/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <mutex>
#include <unordered_map>

namespace warden::providers::upstream {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kTok = asio::as_tuple(asio::use_awaitable);

IoError classify(const error_code& ec, IoError::Kind io_kind) {
  IoError e;
  if (ec == beast::error::timeout) {
    e.kind = IoError::Kind::Timeout;
    e.message = "timed out";
  } else if (ec == asio::error::operation_aborted) {
    e.kind = IoError::Kind::Cancelled;
    e.message = "cancelled";
  } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
             ec != http::error::partial_message) {
    e.kind = IoError::Kind::Protocol;
    e.message = "bad HTTP from upstream: " + ec.message();
  } else {
    e.kind = io_kind;
    e.message = ec.message();
  }
  return e;
}

// A pooled connection the server closed while idle shows up as one of these on first use.
bool is_stale(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

std::string host_header(const BaseUrl& u) {
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if ((u.tls && u.port != 443) || (!u.tls && u.port != 80)) h += ":" + std::to_string(u.port);
  return h;
}

}  // namespace

std::optional<BaseUrl> parse_base_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<BaseUrl> {
    if (error) *error = std::move(msg);
    return std::nullopt;
  };
  BaseUrl out;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else {
    return fail("base_url must start with http:// or https://");
  }
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  if (authority.empty()) return fail("base_url has no host");
  std::string_view port_text;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("base_url has an unclosed IPv6 bracket");
    out.host.assign(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("base_url has junk after the IPv6 address");
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host.assign(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return fail("base_url has no host");
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || p == 0 || p > 65535)
      return fail("base_url has a bad port");
    out.port = static_cast<uint16_t>(p);
  }
  if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix.assign(path);
  return out;
}

// ---- connections and the pool -----------------------------------------------------

struct Conn {
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }
};

struct Pool::Impl {
  BaseUrl url;
  PoolSettings settings;
  std::string host_header;
  std::optional<ssl::context> ssl_ctx;
  std::string ssl_error;  // set when the TLS context could not be built (bad ca_file)

  mutable std::mutex mu;
  std::unordered_map<const void*, std::vector<std::unique_ptr<Conn>>> idle;

  std::unique_ptr<Conn> acquire(const void* key) {
    std::unique_ptr<Conn> stale_victims[8];
    size_t n_victims = 0;
    std::unique_ptr<Conn> out;
    {
      std::lock_guard lock(mu);
      auto it = idle.find(key);
      if (it == idle.end()) return nullptr;
      auto& v = it->second;
      const auto now = Clock::now();
      while (!v.empty()) {
        auto c = std::move(v.back());
        v.pop_back();
        if (now - c->idle_since < settings.idle_expiry) {
          out = std::move(c);
          break;
        }
        if (n_victims < 8) stale_victims[n_victims++] = std::move(c);
      }
    }
    return out;  // expired ones close here, outside the lock, on their own context
  }

  void release(const void* key, std::unique_ptr<Conn> c) {
    c->idle_since = Clock::now();
    std::unique_ptr<Conn> dropped;
    std::lock_guard lock(mu);
    auto& v = idle[key];
    if (v.size() >= settings.max_idle) {
      dropped = std::move(v.front());
      v.erase(v.begin());
    }
    v.push_back(std::move(c));
  }

  asio::awaitable<std::pair<std::unique_ptr<Conn>, std::optional<IoError>>> connect(Clock::time_point deadline) {
    auto ex = co_await asio::this_coro::executor;
    auto fail = [](IoError::Kind k, std::string m) {
      return std::pair<std::unique_ptr<Conn>, std::optional<IoError>>{nullptr, IoError{k, std::move(m)}};
    };
    if (url.tls && !ssl_ctx) co_return fail(IoError::Kind::Connect, "TLS setup failed: " + ssl_error);

    tcp::resolver resolver(ex);
    asio::steady_timer resolve_timer(ex, deadline);
    bool resolve_timed_out = false;
    resolve_timer.async_wait([&resolver, &resolve_timed_out](error_code ec) {
      if (!ec) {
        resolve_timed_out = true;
        resolver.cancel();
      }
    });
    auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), kTok);
    resolve_timer.cancel();
    if (rec) {
      if (resolve_timed_out) co_return fail(IoError::Kind::Timeout, "connect timed out (resolving " + url.host + ")");
      if (rec == asio::error::operation_aborted) co_return fail(IoError::Kind::Cancelled, "cancelled");
      co_return fail(IoError::Kind::Connect, "cannot resolve " + url.host + ": " + rec.message());
    }

    auto c = std::make_unique<Conn>();
    if (url.tls) c->tls.emplace(ex, *ssl_ctx);
    else c->plain.emplace(ex);
    auto& low = c->lowest();
    low.expires_at(deadline);
    auto [cec, ep] = co_await low.async_connect(results, kTok);
    if (cec) {
      auto e = classify(cec, IoError::Kind::Connect);
      e.message = "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + e.message;
      if (e.kind == IoError::Kind::Timeout) e.message = "connect timed out (" + url.host + ")";
      co_return std::pair<std::unique_ptr<Conn>, std::optional<IoError>>{nullptr, e};
    }
    low.socket().set_option(tcp::no_delay(true));
    if (url.tls) {
      SSL* s = c->tls->native_handle();
      error_code aec;
      asio::ip::make_address(url.host, aec);
      if (!aec) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), url.host.c_str());
      } else {
        SSL_set_tlsext_host_name(s, url.host.c_str());  // SNI
        SSL_set1_host(s, url.host.c_str());            // certificate must name this host
      }
      auto [hec] = co_await c->tls->async_handshake(ssl::stream_base::client, kTok);
      if (hec) {
        auto e = classify(hec, IoError::Kind::Connect);
        if (e.kind == IoError::Kind::Connect) {
          std::string detail = hec.message();
          const long vr = SSL_get_verify_result(s);
          if (vr != X509_V_OK) detail = X509_verify_cert_error_string(vr);
          e.message = "TLS handshake with " + url.host + " failed: " + detail;
        }
        co_return std::pair<std::unique_ptr<Conn>, std::optional<IoError>>{nullptr, e};
      }
    }
    co_return std::pair<std::unique_ptr<Conn>, std::optional<IoError>>{std::move(c), std::nullopt};
  }
};

struct Response::Impl {
  std::shared_ptr<Pool::Impl> pool;
  const void* key = nullptr;
  std::unique_ptr<Conn> conn;
  http::response_parser<http::buffer_body> parser;
  bool broken = false;
  bool reused = false;

};

Response::Response(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Response::~Response() {
  if (!impl_ || !impl_->conn) return;
  auto& p = impl_->parser;
  if (!impl_->broken && !error_ && p.is_done() && p.keep_alive() && impl_->conn->buffer.size() == 0) {
    impl_->conn->lowest().expires_never();
    impl_->pool->release(impl_->key, std::move(impl_->conn));
  }
}

int Response::status() const { return static_cast<int>(impl_->parser.get().result_int()); }

std::optional<std::string> Response::header(std::string_view name) const {
  const auto& fields = impl_->parser.get();
  auto it = fields.find(beast::string_view(name.data(), name.size()));
  if (it == fields.end()) return std::nullopt;
  return std::string(it->value());
}

bool Response::done() const { return impl_->parser.is_done(); }
bool Response::reused_connection() const { return impl_->reused; }

asio::awaitable<bool> Response::read_some(std::string& out, Clock::time_point deadline) {
  auto& p = impl_->parser;
  if (error_ || p.is_done()) co_return false;
  impl_->conn->lowest().expires_at(deadline);
  char buf[16384];
  for (;;) {
    p.get().body().data = buf;
    p.get().body().size = sizeof buf;
    // Plain if/else, not `?:` or helper lambdas: GCC 12 double-destroys awaitable
    // temporaries of a conditional co_await expression.
    error_code ec;
    if (impl_->conn->tls) {
      auto [e, n] = co_await http::async_read_some(*impl_->conn->tls, impl_->conn->buffer, p, kTok);
      ec = e;
    } else {
      auto [e, n] = co_await http::async_read_some(*impl_->conn->plain, impl_->conn->buffer, p, kTok);
      ec = e;
    }
    if (ec == http::error::need_buffer) ec = {};
    const size_t got = sizeof buf - p.get().body().size;
    out.append(buf, got);
    if (ec) {
      impl_->broken = true;
      error_ = classify(ec, IoError::Kind::Reset);
      if (ec == http::error::partial_message || ec == http::error::end_of_stream)
        error_->message = "upstream closed the connection mid-response";
      co_return false;
    }
    if (p.is_done()) co_return got > 0 ? true : false;
    if (got > 0) co_return true;
  }
}

asio::awaitable<bool> Response::read_all(std::string& out, Clock::time_point deadline, size_t limit) {
  std::string chunk;
  for (;;) {
    chunk.clear();
    bool more = co_await read_some(chunk, deadline);
    if (out.size() < limit) out.append(chunk, 0, std::min(chunk.size(), limit - out.size()));
    if (!more) co_return !error_;
  }
}

Pool::Pool(BaseUrl url, PoolSettings settings) : impl_(std::make_shared<Impl>()) {
  impl_->url = std::move(url);
  impl_->settings = std::move(settings);
  impl_->host_header = host_header(impl_->url);
  if (impl_->url.tls) {
    ssl::context ctx(ssl::context::tls_client);
    error_code ec;
    ctx.set_verify_mode(ssl::verify_peer, ec);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    if (!impl_->settings.ca_file.empty()) {
      ctx.load_verify_file(impl_->settings.ca_file, ec);
      if (ec) impl_->ssl_error = "cannot load ca_file " + impl_->settings.ca_file + ": " + ec.message();
    } else {
      ctx.set_default_verify_paths(ec);
      if (ec) impl_->ssl_error = "cannot load the system CA store: " + ec.message();
    }
    if (impl_->ssl_error.empty()) impl_->ssl_ctx.emplace(std::move(ctx));
  }
}

Pool::~Pool() = default;

const BaseUrl& Pool::url() const { return impl_->url; }

size_t Pool::idle_connections() const {
  std::lock_guard lock(impl_->mu);
  size_t n = 0;
  for (const auto& [k, v] : impl_->idle) n += v.size();
  return n;
}

asio::awaitable<SendResult> Pool::send(const Request& req, Clock::time_point connect_deadline,
                                       Clock::time_point head_deadline) {
  auto impl = impl_;  // the pool may be replaced by a reload while this request runs
  auto ex = co_await asio::this_coro::executor;
  const void* key = &asio::query(ex, asio::execution::context);

  http::request<http::string_body> hreq;
  hreq.method_string(req.method);
  hreq.target(req.target);
  hreq.version(11);
  hreq.set(http::field::host, impl->host_header);
  hreq.set(http::field::user_agent, "warden");
  for (const auto& [k, v] : req.headers) hreq.set(k, v);
  hreq.body() = req.body;
  hreq.keep_alive(true);
  hreq.prepare_payload();

  for (int round = 0; round < 2; ++round) {
    auto conn = impl->acquire(key);
    const bool reused = conn != nullptr;
    if (!conn) {
      auto [c, err] = co_await impl->connect(connect_deadline);
      if (!c) co_return SendResult{nullptr, err};
      conn = std::move(c);
    }
    conn->lowest().expires_at(head_deadline);
    error_code wec;
    if (conn->tls) {
      auto [e, n] = co_await http::async_write(*conn->tls, hreq, kTok);
      wec = e;
    } else {
      auto [e, n] = co_await http::async_write(*conn->plain, hreq, kTok);
      wec = e;
    }
    if (wec) {
      if (reused && is_stale(wec)) continue;
      co_return SendResult{nullptr, classify(wec, IoError::Kind::Reset)};
    }
    auto rimpl = std::make_unique<Response::Impl>();
    rimpl->pool = impl;
    rimpl->key = key;
    rimpl->conn = std::move(conn);
    rimpl->reused = reused;
    rimpl->parser.header_limit(64 * 1024);
    rimpl->parser.body_limit(boost::none);
    error_code rec;
    size_t rn = 0;
    if (rimpl->conn->tls) {
      auto [e, n] = co_await http::async_read_header(*rimpl->conn->tls, rimpl->conn->buffer, rimpl->parser, kTok);
      rec = e, rn = n;
    } else {
      auto [e, n] = co_await http::async_read_header(*rimpl->conn->plain, rimpl->conn->buffer, rimpl->parser, kTok);
      rec = e, rn = n;
    }
    if (rec) {
      if (reused && is_stale(rec) && rn == 0) continue;
      auto e = classify(rec, IoError::Kind::Reset);
      if (e.kind == IoError::Kind::Reset) e.message = "upstream closed the connection before answering";
      co_return SendResult{nullptr, e};
    }
    co_return SendResult{std::make_unique<Response>(std::move(rimpl)), std::nullopt};
  }
  co_return SendResult{nullptr, IoError{IoError::Kind::Reset, "upstream closed the connection before answering"}};
}

}  // namespace warden::providers::upstream
