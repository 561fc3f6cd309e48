#include "warden/providers/openai_compat/openai_compat_provider.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <charconv>

#include "warden/api/openai/chat_encode.hpp"
#include "warden/api/sse_parser.hpp"
#include "warden/providers/openai_compat/response_parser.hpp"
#include "warden/providers/registry_pools.hpp"

namespace warden::providers {

using api::StreamEvent;
using upstream::Clock;
using upstream::IoError;
using std::chrono::milliseconds;

namespace {

Outcome fail(int status, std::string code, std::string message, bool retryable, std::string type = {}) {
  Outcome o;
  o.ok = false;
  o.error.http_status = status;
  o.error.code = std::move(code);
  o.error.message = std::move(message);
  o.error.type = std::move(type);
  o.retryable = retryable;
  return o;
}

// The caller left (cancelled coroutine or a sink that refused an event).
Outcome gone() { return fail(499, "client_closed_request", "The client closed the connection.", false); }

Outcome from_io(const IoError& e, const std::string& provider, bool before_payload, const char* phase_timeout) {
  switch (e.kind) {
    case IoError::Kind::Cancelled:
      return gone();
    case IoError::Kind::Timeout:
      return fail(504, "upstream_timeout", "Provider '" + provider + "' timed out (" + phase_timeout + ").",
                  before_payload, "server_error");
    case IoError::Kind::Connect:
      return fail(502, "upstream_connect_error", "Provider '" + provider + "': " + e.message, true, "server_error");
    case IoError::Kind::Protocol:
      return fail(502, "upstream_protocol_error", "Provider '" + provider + "': " + e.message, before_payload,
                  "server_error");
    case IoError::Kind::Reset:
      break;
  }
  return fail(502, "upstream_reset", "Provider '" + provider + "': " + e.message, before_payload, "server_error");
}

std::optional<milliseconds> parse_retry_after(const upstream::Response& r) {
  auto parse_int = [](const std::string& s, int64_t& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out >= 0;
  };
  int64_t v = 0;
  if (auto ms = r.header("retry-after-ms"); ms && parse_int(*ms, v)) return milliseconds(v);
  if (auto s = r.header("retry-after"); s && parse_int(*s, v)) return milliseconds(v * 1000);
  return std::nullopt;  // an HTTP-date retry-after is rare from APIs; the router's backoff applies
}

bool retryable_status(int s) { return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

bool only_whitespace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

}  // namespace

OpenAICompatProvider::OpenAICompatProvider(const config::ProviderConfig& cfg, std::shared_ptr<upstream::Pool> pool)
    : cfg_(cfg), pool_(std::move(pool)) {
  std::string err;
  auto url = upstream::parse_base_url(cfg_.base_url, &err);
  if (!url) {
    config_error_ = "provider '" + cfg_.name + "': " + err;
    return;
  }
  // `base_url` may name the API root with or without /v1 (DeepSeek accepts both), or even
  // the full endpoint; the chat path is that prefix + /chat/completions.
  std::string prefix = url->prefix;
  constexpr std::string_view kChat = "/chat/completions";
  if (prefix.size() >= kChat.size() && prefix.compare(prefix.size() - kChat.size(), kChat.size(), kChat) == 0)
    prefix.resize(prefix.size() - kChat.size());
  chat_path_ = prefix + std::string(kChat);
  if (!pool_) pool_ = make_pool(cfg_);
}

asio::awaitable<Outcome> OpenAICompatProvider::stream(const api::ChatRequest& req, EventSink& sink) {
  if (!pool_) co_return fail(500, "provider_misconfigured", config_error_, false, "server_error");
  const auto& t = cfg_.timeouts;
  const auto start = Clock::now();
  const auto total_deadline = start + milliseconds(t.total_ms > 0 ? t.total_ms : 900'000);
  auto capped = [&](Clock::time_point tp) { return std::min(tp, total_deadline); };

  api::openai::UpstreamOptions opts;
  opts.force_include_usage = true;
  // DeepSeek's rule (wire-formats §1): thinking-mode models need reasoning_content echoed on
  // tool-call turns; legacy reasoners reject it. `forbidden` and `strip` both drop it, so the
  // request succeeds instead of bouncing off a 400.
  opts.drop_reasoning = cfg_.reasoning_echo != config::ReasoningEcho::Required;
  opts.user_field = cfg_.user_field;

  upstream::Request hreq;
  hreq.target = chat_path_;
  hreq.body = api::openai::encode_chat_request(req, opts);
  hreq.headers.emplace_back("content-type", "application/json");
  hreq.headers.emplace_back("accept", req.stream ? "text/event-stream" : "application/json");
  for (const auto& [k, v] : cfg_.headers) hreq.headers.emplace_back(k, v);
  if (!cfg_.api_key.empty()) hreq.headers.emplace_back("authorization", "Bearer " + cfg_.api_key);

  auto sent = co_await pool_->send(hreq, capped(start + milliseconds(t.connect_ms)),
                                   capped(start + milliseconds(t.first_byte_ms)));
  if (!sent.response) {
    const char* phase = sent.error->message.find("connect") != std::string::npos ? "connect_ms" : "first_byte_ms";
    co_return from_io(*sent.error, cfg_.name, true, phase);
  }
  auto& resp = *sent.response;

  if (resp.status() != 200) {
    std::string body;
    co_await resp.read_all(body, capped(Clock::now() + milliseconds(std::min<int64_t>(t.idle_ms, 30'000))), 64 * 1024);
    if (resp.error() && resp.error()->kind == IoError::Kind::Cancelled) co_return gone();
    Outcome o;
    o.ok = false;
    o.upstream_status = resp.status();
    o.error = openai_compat::parse_error_body(resp.status(), body);
    if (o.error.http_status < 400) o.error.http_status = 502;  // 1xx/3xx are not answers warden can forward
    o.retryable = retryable_status(resp.status());
    o.retry_after = parse_retry_after(resp);
    co_return o;
  }

  Outcome out;
  out.upstream_status = 200;
  bool payload_seen = false;
  bool started = false;
  bool finished = false;   // a finish_reason arrived
  bool done = false;       // [DONE] or the whole JSON body arrived
  std::optional<Outcome> stop;
  Clock::time_point last_payload = start;

  auto deadline = [&] {
    return payload_seen ? capped(last_payload + milliseconds(t.idle_ms)) : capped(start + milliseconds(t.first_byte_ms));
  };
  auto phase = [&] {
    if (Clock::now() >= total_deadline - milliseconds(1)) return "total_ms";
    return payload_seen ? "idle_ms" : "first_byte_ms";
  };

  // Emits one event; false once the caller is gone (the sink refused it).
  auto emit = [&](StreamEvent ev) -> asio::awaitable<bool> {
    if (ev.type == StreamEvent::Type::Usage) out.usage = ev.usage;
    if (ev.type == StreamEvent::Type::Finish) {
      out.finish_reason = ev.finish_reason;
      finished = true;
    }
    co_return co_await sink.emit(std::move(ev));
  };

  if (req.stream) {
    api::SseParser sse;
    std::vector<api::SseEvent> pending;
    auto collect = [&](api::SseEvent& e) { pending.push_back(std::move(e)); };
    std::string bytes;
    for (bool more = true; more && !done && !stop;) {
      bytes.clear();
      more = co_await resp.read_some(bytes, deadline());
      sse.feed(bytes, collect);
      if (!more && !resp.error()) sse.finish(collect);
      for (auto& e : pending) {
        if (done || stop) break;
        if (e.comment) {
          // DeepSeek's `: keep-alive` while queued: forwarded, but not progress.
          StreamEvent ka;
          ka.type = StreamEvent::Type::KeepAlive;
          ka.text = e.data;
          if (!co_await emit(std::move(ka))) stop = gone();
          continue;
        }
        payload_seen = true;
        last_payload = Clock::now();
        if (e.data == "[DONE]") {
          done = true;
          break;
        }
        auto chunk = openai_compat::parse_chunk(e.data);
        if (chunk.error) {
          stop = fail(chunk.error->http_status, chunk.error->code, chunk.error->message, !started && !sink.committed(),
                      chunk.error->type);
          break;
        }
        if (chunk.malformed) {
          stop = fail(502, "upstream_protocol_error", "Provider '" + cfg_.name + "' sent a chunk that is not JSON.",
                      !started && !sink.committed(), "server_error");
          break;
        }
        if (!started) {
          started = true;
          out.response_model = chunk.model;
          StreamEvent s;
          s.type = StreamEvent::Type::Start;
          s.id = chunk.id;
          s.model = chunk.model;
          if (!co_await emit(std::move(s))) {
            stop = gone();
            break;
          }
        }
        for (auto& ev : chunk.events) {
          if (!co_await emit(std::move(ev))) {
            stop = gone();
            break;
          }
        }
      }
      pending.clear();
    }
    if (stop) co_return std::move(*stop);
    if (resp.error()) {
      Outcome o = from_io(*resp.error(), cfg_.name, !payload_seen, phase());
      o.upstream_status = 200;
      o.usage = out.usage;
      o.retryable = o.retryable && !sink.committed();
      co_return o;
    }
    if (!done && !finished) {
      Outcome o = fail(502, "upstream_reset", "Provider '" + cfg_.name + "' ended the stream before it finished.",
                       !sink.committed(), "server_error");
      o.upstream_status = 200;
      o.usage = out.usage;
      co_return o;
    }
    if (done && !resp.done()) {
      // Read the body's end (the chunked terminator follows [DONE] at once) so the
      // connection can go back to the pool; an upstream that dawdles loses it instead.
      std::string rest;
      const auto drain_until = std::min(Clock::now() + milliseconds(100), total_deadline);
      while (rest.size() < 4096 && co_await resp.read_some(rest, drain_until)) {
      }
    }
    out.ok = true;
    co_return out;
  }

  // Non-streaming: DeepSeek sends blank lines while the request waits in its queue; they
  // keep the connection alive but are not progress.
  std::string body, bytes;
  for (bool more = true; more;) {
    bytes.clear();
    more = co_await resp.read_some(bytes, deadline());
    if (!bytes.empty()) {
      if (!payload_seen && only_whitespace(bytes)) {
        StreamEvent ka;
        ka.type = StreamEvent::Type::KeepAlive;
        if (!co_await emit(std::move(ka))) co_return gone();
        continue;
      }
      if (!payload_seen) bytes.erase(0, bytes.find_first_not_of(" \r\n\t"));
      payload_seen = true;
      last_payload = Clock::now();
      body += bytes;
    }
  }
  if (resp.error()) co_return from_io(*resp.error(), cfg_.name, !payload_seen, phase());
  auto parsed = openai_compat::parse_completion(body);
  if (parsed.error) co_return fail(parsed.error->http_status, parsed.error->code, parsed.error->message, false,
                                   parsed.error->type);
  if (parsed.malformed)
    co_return fail(502, "upstream_protocol_error", "Provider '" + cfg_.name + "' sent a body that is not JSON.", true,
                   "server_error");
  out.response_model = parsed.model;
  for (auto& ev : parsed.events)
    if (!co_await emit(std::move(ev))) co_return gone();
  out.ok = true;
  co_return out;
}

}  // namespace warden::providers
