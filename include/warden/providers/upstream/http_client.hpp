#pragma once
// HTTP/1.1 client for upstream APIs: TCP or TLS (certificate + hostname verification
// against the system CA store or a configured CA file, SNI), a bounded keep-alive pool
// per provider, streamed body reads with a deadline per read. Beast stays inside the
// .cpp. Cancellation: every operation honours the awaiting coroutine's cancellation slot
// (a cancelled read closes the connection, which never returns to the pool).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::providers::upstream {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// scheme://host[:port][/prefix] — the provider's base_url.
struct BaseUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  std::string prefix;  // path prefix without a trailing '/', may be empty
};
// nullopt with `error` set on a malformed URL.
std::optional<BaseUrl> parse_base_url(std::string_view url, std::string* error = nullptr);

struct IoError {
  enum class Kind {
    Connect,    // resolve / TCP connect / TLS handshake failed: nothing was sent
    Timeout,    // the deadline passed
    Reset,      // the connection broke (EOF before the end, reset)
    Protocol,   // the upstream did not speak HTTP/1.1 properly
    Cancelled,  // the awaiting coroutine was cancelled (client gone)
  };
  Kind kind = Kind::Connect;
  std::string message;  // for operators; never contains request content
};

struct Request {
  std::string method = "POST";
  std::string target;  // path + query, e.g. /v1/chat/completions
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct PoolSettings {
  std::string ca_file;       // PEM bundle replacing the system store; empty = system store
  size_t max_idle = 256;     // idle keep-alive connections kept per I/O context
  std::chrono::milliseconds idle_expiry{30'000};  // idle connections older than this are closed, not reused
};

class Pool;

// One response being read. Returns its connection to the pool when the body was read to
// the end and both sides allow keep-alive. Used on one executor only.
class Response {
 public:
  ~Response();
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  int status() const;
  // Case-insensitive; nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
  // Appends the next body bytes to `out`. Returns true with data appended, or false at the
  // end of the body (error() empty) or on failure (error() set). `deadline` bounds this read.
  asio::awaitable<bool> read_some(std::string& out, Clock::time_point deadline);
  // Reads the rest of the body (up to `limit` bytes kept) — for error bodies.
  asio::awaitable<bool> read_all(std::string& out, Clock::time_point deadline, size_t limit = 1 << 20);
  bool done() const;
  const std::optional<IoError>& error() const { return error_; }
  bool reused_connection() const;

  struct Impl;
  explicit Response(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
  std::optional<IoError> error_;
};

struct SendResult {
  std::unique_ptr<Response> response;  // set when the status line and headers arrived
  std::optional<IoError> error;
};

// Thread-safe: send() may run concurrently from any I/O thread; connections are kept per
// I/O context so a connection is only ever used from the context that made it.
class Pool {
 public:
  Pool(BaseUrl url, PoolSettings settings);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const BaseUrl& url() const;
  // Sends `req` and reads the response head. `connect_deadline` bounds resolve + connect +
  // TLS handshake; `head_deadline` bounds writing the request and reading the headers. A
  // pooled connection the upstream had already closed is retried once on a new one.
  asio::awaitable<SendResult> send(const Request& req, Clock::time_point connect_deadline,
                                   Clock::time_point head_deadline);
  size_t idle_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace warden::providers::upstream
