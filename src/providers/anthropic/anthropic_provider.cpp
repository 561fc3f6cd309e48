#include "warden/providers/anthropic/anthropic_provider.hpp"

#include <charconv>
#include <map>

#include "warden/api/anthropic/messages_encode.hpp"
#include "warden/api/anthropic/stream_decode.hpp"
#include "warden/api/sse_parser.hpp"

namespace warden::providers::anthropic {

namespace {

using upstream::Clock;
using upstream::IoError;
namespace wire = api::anthropic;

bool retryable_status(int s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s == 529; }

std::optional<std::chrono::milliseconds> parse_retry_after(const upstream::Response& r) {
  auto parse = [](const std::string& v, int64_t& out) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && out >= 0;
  };
  int64_t n = 0;
  if (auto ms = r.header("retry-after-ms"); ms && parse(*ms, n)) return std::chrono::milliseconds(n);
  if (auto s = r.header("retry-after"); s && parse(*s, n)) return std::chrono::milliseconds(n * 1000);
  return std::nullopt;
}

Outcome io_failure(const IoError& e, bool before_payload, const std::string& provider) {
  Outcome o;
  o.upstream_status = 0;
  switch (e.kind) {
    case IoError::Kind::Connect:
      o.retryable = true;
      o.error = Error{502, "upstream_connect_error", "Could not connect to provider '" + provider + "'", "server_error", ""};
      break;
    case IoError::Kind::Timeout:
      o.retryable = before_payload;
      o.error = Error{504, "upstream_timeout", "Provider '" + provider + "' timed out", "server_error", ""};
      break;
    case IoError::Kind::Cancelled:
      o.error = Error{499, "client_closed_request", "The client closed the connection.", "", ""};
      break;
    default:
      o.retryable = before_payload;
      o.error = Error{502, "upstream_error", "Provider '" + provider + "' broke the connection: " + e.message, "server_error", ""};
      break;
  }
  return o;
}

class AnthropicProvider final : public Provider {
 public:
  AnthropicProvider(const config::ProviderConfig& cfg, std::shared_ptr<upstream::Pool> pool)
      : name_(cfg.name), api_key_(cfg.api_key), headers_(cfg.headers), timeouts_(cfg.timeouts), pool_(std::move(pool)) {}

  std::string type() const override { return "anthropic"; }

  asio::awaitable<Outcome> stream(const api::ChatRequest& req, EventSink& sink) override {
    const auto started = Clock::now();
    const auto total = started + std::chrono::milliseconds(timeouts_.total_ms);
    const auto first_byte = std::min(total, started + std::chrono::milliseconds(timeouts_.first_byte_ms));
    const auto idle = std::chrono::milliseconds(timeouts_.idle_ms);

    upstream::Request http;
    http.method = "POST";
    http.target = pool_->url().prefix + "/v1/messages";
    http.headers.emplace_back("content-type", "application/json");
    http.headers.emplace_back("accept", req.stream ? "text/event-stream" : "application/json");
    if (!api_key_.empty()) http.headers.emplace_back("x-api-key", api_key_);
    bool has_version = false;
    for (const auto& [k, v] : req.upstream_headers) {
      if (k == "anthropic-version" || k == "anthropic-beta") {
        has_version |= k == "anthropic-version";
        http.headers.emplace_back(k, v);
      }
    }
    if (!has_version) http.headers.emplace_back("anthropic-version", kDefaultVersion);
    for (const auto& [k, v] : headers_) http.headers.emplace_back(k, v);
    http.body = wire::encode_messages_request(req);

    auto sent = co_await pool_->send(http, std::min(total, started + std::chrono::milliseconds(timeouts_.connect_ms)),
                                     first_byte);
    if (!sent.response) co_return io_failure(sent.error.value_or(IoError{}), true, name_);
    auto& res = *sent.response;

    if (res.status() != 200) {
      Outcome o;
      o.upstream_status = res.status();
      o.retryable = retryable_status(res.status());
      o.retry_after = parse_retry_after(res);
      std::string body;
      co_await res.read_all(body, std::min(total, Clock::now() + std::chrono::seconds(10)), 64 * 1024);
      std::string type, message = "Provider '" + name_ + "' answered HTTP " + std::to_string(res.status());
      // {"type":"error","error":{"type","message"}} — reuse the stream decoder's error path.
      wire::StreamDecoder d;
      for (auto& ev : d.feed("error", body))
        if (ev.type == api::StreamEvent::Type::Error) {
          type = ev.error.code;
          if (!ev.error.message.empty() && ev.error.message != "upstream error") message = ev.error.message;
        }
      o.error = wire::error_from_type(type, message, res.status());
      co_return o;
    }

    if (!req.stream) co_return co_await whole(res, sink, total);

    wire::StreamDecoder decoder;
    api::SseParser parser;
    std::vector<api::SseEvent> pending;
    bool payload = false;   // a data event other than ping arrived
    bool content = false;   // an answer event went to the sink
    std::optional<api::StreamEvent> held_start;
    auto deadline = first_byte;
    std::string buf;
    Outcome o;
    while (!decoder.done()) {
      buf.clear();
      bool more = co_await res.read_some(buf, deadline);
      if (!more) {
        if (res.error()) co_return io_failure(*res.error(), !content, name_);
        // End of body without message_stop.
        parser.finish([&](api::SseEvent& e) { pending.push_back(std::move(e)); });
        if (pending.empty()) {
          o.retryable = !content;
          o.error = Error{502, "upstream_error", "Provider '" + name_ + "' ended the stream early", "server_error", ""};
          co_return o;
        }
      } else {
        parser.feed(buf, [&](api::SseEvent& e) { pending.push_back(std::move(e)); });
      }
      for (auto& sse : pending) {
        std::vector<api::StreamEvent> evs;
        if (sse.comment) {
          api::StreamEvent ka;
          ka.type = api::StreamEvent::Type::KeepAlive;
          evs.push_back(std::move(ka));
        } else {
          evs = decoder.feed(sse.event, sse.data);
        }
        for (auto& ev : evs) {
          if (ev.type == api::StreamEvent::Type::KeepAlive) {
            if (!content) continue;  // nothing to keep alive yet; it is not progress either
          } else if (!payload) {
            payload = true;
          }
          if (ev.type == api::StreamEvent::Type::Error && !content) {
            // An in-band error before any answer: a plain failed attempt (retryable when overloaded).
            o.upstream_status = ev.error.http_status;
            o.retryable = retryable_status(ev.error.http_status);
            o.error = ev.error;
            co_return o;
          }
          if (ev.type == api::StreamEvent::Type::Start) {
            // Held until the first answer event: message_start alone would commit the caller's
            // stream, and an overloaded error right after it must stay retryable.
            held_start = std::move(ev);
            continue;
          }
          if (ev.type != api::StreamEvent::Type::KeepAlive) content = true;
          if (held_start) {
            api::StreamEvent start = std::move(*held_start);
            held_start.reset();
            if (!co_await sink.emit(std::move(start))) {
              o.error = Error{499, "client_closed_request", "The client closed the connection.", "", ""};
              co_return o;
            }
          }
          bool is_error = ev.type == api::StreamEvent::Type::Error;
          Error err = ev.error;
          if (!co_await sink.emit(std::move(ev))) {
            o.error = Error{499, "client_closed_request", "The client closed the connection.", "", ""};
            co_return o;
          }
          if (is_error) {
            o.error = err;
            co_return o;
          }
        }
        // Only payload moves the idle deadline; pings and comments do not.
        if (!sse.comment && sse.event != "ping" && payload) deadline = std::min(total, Clock::now() + idle);
      }
      pending.clear();
      if (!more && !decoder.done()) {
        o.retryable = !content;
        o.error = Error{502, "upstream_error", "Provider '" + name_ + "' ended the stream early", "server_error", ""};
        co_return o;
      }
    }
    o.ok = true;
    o.usage = decoder.usage();
    o.finish_reason = decoder.finish_reason();
    o.response_model = decoder.model();
    co_return o;
  }

 private:
  asio::awaitable<Outcome> whole(upstream::Response& res, EventSink& sink, Clock::time_point total) {
    std::string body;
    Outcome o;
    if (!co_await res.read_all(body, total, 64 * 1024 * 1024) && res.error()) co_return io_failure(*res.error(), true, name_);
    bool ok = false;
    auto evs = wire::decode_message_response(body, &ok);
    if (!ok) {
      o.retryable = false;
      o.error = Error{502, "upstream_error", "Provider '" + name_ + "' sent an answer that is not an Anthropic message",
                      "server_error", ""};
      co_return o;
    }
    for (auto& ev : evs) {
      if (ev.type == api::StreamEvent::Type::Usage) o.usage = ev.usage;
      if (ev.type == api::StreamEvent::Type::Finish) o.finish_reason = ev.finish_reason;
      if (ev.type == api::StreamEvent::Type::Start) o.response_model = ev.model;
      if (!co_await sink.emit(std::move(ev))) {
        o.error = Error{499, "client_closed_request", "The client closed the connection.", "", ""};
        co_return o;
      }
    }
    o.ok = true;
    co_return o;
  }

  std::string name_;
  std::string api_key_;
  std::map<std::string, std::string> headers_;
  config::ProviderTimeouts timeouts_;
  std::shared_ptr<upstream::Pool> pool_;
};

}  // namespace

std::shared_ptr<Provider> make_provider(const config::ProviderConfig& cfg, std::shared_ptr<upstream::Pool> pool) {
  return std::make_shared<AnthropicProvider>(cfg, std::move(pool));
}

}  // namespace warden::providers::anthropic
