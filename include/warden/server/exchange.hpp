#pragma once
// One HTTP request and its response, as endpoint handlers see it. Implemented by the
// session (plain or TLS); used only on the session's executor. Handlers never see Beast.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace warden::config {
struct Config;
}

namespace warden::server {

namespace asio = boost::asio;

// Fields of the one access-log line per request; handlers fill what they learn.
struct AccessLog {
  std::string alias;
  std::string target;
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  int attempts = 0;
  std::string error_code;
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual std::string_view method() const = 0;
  virtual std::string_view path() const = 0;   // without the query
  virtual std::string_view query() const = 0;  // after '?', may be empty
  // Case-insensitive header lookup.
  virtual std::optional<std::string_view> header(std::string_view name) const = 0;
  virtual const std::string& body() const = 0;
  virtual const std::string& request_id() const = 0;
  virtual std::string peer_address() const = 0;

  // Adds a response header; only before the response starts.
  virtual void add_header(std::string name, std::string value) = 0;
  // A whole response. Returns false if the client is gone.
  virtual asio::awaitable<bool> respond(int status, std::string content_type, std::string body) = 0;
  // A streamed response (SSE): headers go out now, each write() is flushed at once.
  virtual asio::awaitable<bool> begin_stream(int status, std::string content_type) = 0;
  virtual asio::awaitable<bool> write(std::string_view bytes) = 0;  // false: client gone
  virtual asio::awaitable<void> end_stream() = 0;
  virtual bool started() const = 0;      // status line sent
  virtual bool client_gone() const = 0;  // peer closed or reset
  virtual AccessLog& access_log() = 0;
};

using Handler = std::function<asio::awaitable<void>(Exchange&, std::shared_ptr<const config::Config>)>;

}  // namespace warden::server
