#include "warden/api/chat_pipeline.hpp"

#include <optional>
#include <set>
#include <vector>

#include "warden/config/config.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/chain.hpp"
#include "warden/providers/caller_safe_error.hpp"
#include "warden/router/dispatch.hpp"
#include "warden/telemetry/request_telemetry.hpp"

namespace warden::api {

namespace asio = boost::asio;
using policy::RequestContext;

namespace {

constexpr std::string_view kEventStream = "text/event-stream";
constexpr std::string_view kJson = "application/json";

class PipelineSink final : public providers::EventSink {
 public:
  PipelineSink(server::Exchange& ex, ChatCodec& codec, RequestContext& ctx,
               std::vector<std::unique_ptr<policy::Filter>>& filters, bool stream)
      : ex_(ex), codec_(codec), ctx_(ctx), filters_(filters), stream_(stream) {}

  asio::awaitable<bool> emit(StreamEvent ev) override {
    if (stopped_) co_return false;
    if (ev.type == StreamEvent::Type::Finish) finished_.insert(ev.choice);
    else if (ev.type == StreamEvent::Type::Content || ev.type == StreamEvent::Type::ToolCall) open_.insert(ev.choice);
    std::vector<StreamEvent> out;
    run_filters(filters_.size(), std::move(ev), out);
    for (auto& e : out)
      if (!co_await deliver(std::move(e))) co_return false;
    co_return !stopped_;
  }

  // The upstream ended without a finish_reason for a choice that had output: a filter may
  // still hold text back for it (DLP), so that choice gets its Finish here.
  asio::awaitable<void> finish_open_choices(const std::string& reason) {
    for (int choice : open_) {
      if (finished_.count(choice) || stopped_) continue;
      StreamEvent fin;
      fin.type = StreamEvent::Type::Finish;
      fin.choice = choice;
      fin.finish_reason = reason.empty() ? "stop" : reason;
      if (!co_await emit(std::move(fin))) co_return;
    }
  }

  bool committed() const override { return ex_.started(); }
  const std::optional<Error>& error() const { return error_; }

  static void add_answer_headers(server::Exchange& ex, const RequestContext& ctx) {
    if (!ctx.target.empty()) ex.add_header("x-warden-target", ctx.target);
    if (ctx.attempts > 0) ex.add_header("x-warden-attempts", std::to_string(ctx.attempts));
    for (const auto& [k, v] : ctx.response_headers) ex.add_header(k, v);
  }

 private:
  // Response events pass the filters in REVERSE chain order (docs/design.md §2): the
  // filter nearest the upstream on the way out sees the event first, so DLP restores and
  // redacts before guardrails and tool rules judge the text the caller would receive.
  // A filter may release held-back text ahead of an event (`released_before`, e.g. DLP's
  // reasoning window before the first content), or leave it on a Finish event (DLP's
  // content window): either becomes ordinary events just before that one, seen by the
  // remaining filters and the encoder, so no encoder ever has to know about hold-back.
  void run_filters(size_t remaining, StreamEvent ev, std::vector<StreamEvent>& out) {
    while (remaining > 0) {
      filters_[--remaining]->on_event(ctx_, ev);
      if (ev.type == StreamEvent::Type::Error) break;  // a filter stopped the answer
      if (auto released = std::move(ev.released_before)) {
        ev.released_before.reset();
        for (auto& r : *released) {
          run_filters(remaining, std::move(r), out);
          if (!out.empty() && out.back().type == StreamEvent::Type::Error) return;
        }
      }
      if (ev.type == StreamEvent::Type::Finish && !ev.text.empty()) {
        StreamEvent tail;
        tail.type = StreamEvent::Type::Content;
        tail.choice = ev.choice;
        tail.text = std::move(ev.text);
        ev.text.clear();
        run_filters(remaining, std::move(tail), out);
        if (!out.empty() && out.back().type == StreamEvent::Type::Error) return;
      }
    }
    out.push_back(std::move(ev));
  }

  asio::awaitable<bool> deliver(StreamEvent ev) {
    if (stopped_) co_return false;
    switch (ev.type) {
      case StreamEvent::Type::Content:
      case StreamEvent::Type::Reasoning:
      case StreamEvent::Type::ToolCall:
        if (!ctx_.first_token_at) ctx_.first_token_at = std::chrono::steady_clock::now();
        break;
      case StreamEvent::Type::Usage:
        ctx_.usage = ev.usage;
        break;
      case StreamEvent::Type::Finish:
        ctx_.finish_reason = ev.finish_reason;
        break;
      case StreamEvent::Type::Error:
        ev.error = providers::caller_safe(std::move(ev.error), *ctx_.config);
        error_ = ev.error;
        stopped_ = true;
        // Before the stream started the error becomes the HTTP answer, not an event.
        if (!ex_.started()) co_return false;
        break;
      default:
        break;
    }
    if (!stream_) {
      if (ev.type != StreamEvent::Type::Error) codec_.aggregate(ev);
      co_return !stopped_;
    }
    std::string bytes = codec_.encode_event(ev);
    if (!bytes.empty()) {
      if (!ex_.started()) {
        add_answer_headers(ex_, ctx_);
        if (!co_await ex_.begin_stream(200, std::string(kEventStream))) {
          stopped_ = true;
          co_return false;
        }
      }
      if (!co_await ex_.write(bytes)) {
        stopped_ = true;
        co_return false;
      }
    }
    co_return !stopped_;
  }

  server::Exchange& ex_;
  ChatCodec& codec_;
  RequestContext& ctx_;
  std::vector<std::unique_ptr<policy::Filter>>& filters_;
  bool stream_;
  bool stopped_ = false;
  std::optional<Error> error_;
  std::set<int> open_, finished_;  // choices with output / with a Finish so far
};

asio::awaitable<void> respond_error(server::Exchange& ex, const ChatCodec& codec, RequestContext& ctx,
                                    const Error& e, std::optional<std::chrono::milliseconds> retry_after = {}) {
  ctx.status = e.http_status;
  ex.access_log().error_code = e.code;
  PipelineSink::add_answer_headers(ex, ctx);
  if (retry_after && (e.http_status == 429 || e.http_status == 503)) {
    const auto secs = (retry_after->count() + 999) / 1000;
    ex.add_header("retry-after", std::to_string(std::max<int64_t>(secs, 1)));
  }
  co_await ex.respond(e.http_status, std::string(kJson), codec.encode_error(e));
}

void finish(server::Exchange& ex, RequestContext& ctx, std::vector<std::unique_ptr<policy::Filter>>& filters) {
  for (auto& f : filters) f->on_complete(ctx);
  auto& log = ex.access_log();
  log.alias = ctx.alias;
  log.target = ctx.target;
  log.attempts = ctx.attempts;
  if (ctx.usage.present) {
    log.prompt_tokens = ctx.usage.prompt_tokens;
    log.completion_tokens = ctx.usage.completion_tokens;
  }
  telemetry::record_request(ctx, log.error_code);  // metrics, usage ledger row, request span
}

// Caller-chosen strings that end up in the access log, the audit trail and metrics
// (the alias, the workload and data-class headers) are bounded: a longer one is a 400,
// never a megabyte log line.
constexpr size_t kMaxModelBytes = 256;
constexpr size_t kMaxLabelBytes = 128;

std::optional<Error> oversized_field(const RequestContext& ctx, const ChatRequest& req) {
  auto too_long = [](const std::string& field, size_t max) {
    return Error{400, "field_too_long", "'" + field + "' is longer than " + std::to_string(max) + " bytes.",
                 "invalid_request_error", field};
  };
  if (req.model.size() > kMaxModelBytes) return too_long("model", kMaxModelBytes);
  for (const char* h : {"x-warden-workload", "x-warden-data-class"})
    if (auto it = ctx.headers.find(h); it != ctx.headers.end() && it->second.size() > kMaxLabelBytes)
      return too_long(h, kMaxLabelBytes);
  return std::nullopt;
}

}  // namespace

const std::vector<std::string_view>& context_header_names() {
  static const std::vector<std::string_view> names = {
      "authorization",    "x-api-key",        "x-request-id",     "x-warden-workload", "x-warden-data-class",
      "x-warden-team",    "x-warden-cache",   "traceparent",      "tracestate",        "anthropic-version",
      "anthropic-beta",   "user-agent",       "content-type",     "openai-organization", "openai-project",
  };
  return names;
}

asio::awaitable<void> run_chat(server::Exchange& ex, std::shared_ptr<const config::Config> config,
                               ChatCodec& codec) {
  RequestContext ctx;
  ctx.request_id = ex.request_id();
  ctx.config = config;
  ctx.wire = codec.wire();
  ctx.endpoint = std::string(ex.path());
  for (auto name : context_header_names())
    if (auto v = ex.header(name)) ctx.headers.emplace(std::string(name), std::string(*v));
  if (auto it = ctx.headers.find("x-warden-workload"); it != ctx.headers.end()) ctx.workload = it->second;
  if (auto it = ctx.headers.find("x-warden-data-class"); it != ctx.headers.end()) ctx.data_class = it->second;

  auto decoded = codec.decode(ex.body());
  std::optional<Error> invalid;
  if (!decoded) invalid = decoded.error();
  else invalid = oversized_field(ctx, decoded.value());
  if (invalid) {
    // A wrong or missing key is a 401 whatever the body holds (as OpenAI answers), so an
    // unauthenticated caller cannot probe request validation.
    Error e = *invalid;
    if (auto key = policy::presented_key(ctx); !key) {
      e = Error{401, "invalid_api_key", "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key'.", "", ""};
    } else if (auto caller = policy::authenticate(ctx, *key); !caller) {
      e = caller.error();
    }
    co_await respond_error(ex, codec, ctx, e);
    co_return;
  }
  ctx.request = std::move(decoded).value();
  ctx.alias = ctx.request.model;
  ex.access_log().alias = ctx.alias;
  telemetry::begin_request(ctx);  // trace context; traceparent answer header

  auto filters = policy::make_filters(ctx);
  for (auto& f : filters) {
    if (co_await f->on_request(ctx) == policy::FilterStatus::Reply) {
      Error e = ctx.reply.value_or(Error{500, "internal_error", "A policy filter answered without a reply.", "", ""});
      co_await respond_error(ex, codec, ctx, e);
      finish(ex, ctx, filters);
      co_return;
    }
  }

  codec.begin(ctx.request);
  const bool stream = ctx.request.stream;
  telemetry::ActiveStream active_stream(stream);
  PipelineSink sink(ex, codec, ctx, filters, stream);

  providers::Outcome outcome;
  try {
    // Client disconnect: the server cancels this coroutine (terminal), which aborts the
    // upstream I/O below; a sink write that fails stops the provider too.
    if (ctx.local_answer) {
      // A filter answered locally with success (response cache hit): replay its events
      // through the same filters/encoder a provider's answer takes; nothing goes upstream.
      outcome.ok = true;
      for (const auto& ev : *ctx.local_answer)
        if (!co_await sink.emit(ev)) break;
    } else {
      outcome = co_await router::dispatch(ctx, sink);
    }
    if (outcome.ok && !ex.client_gone()) co_await sink.finish_open_choices(outcome.finish_reason);
  } catch (const std::exception&) {
    // Not control flow: a bug below must still end this request cleanly.
    outcome.ok = false;
    outcome.error = Error{500, "internal_error", "Internal error while answering.", "server_error", ""};
  }
  if (!outcome.ok && outcome.error.http_status < 400) outcome.error.http_status = 502;

  std::optional<Error> failure;
  if (sink.error()) failure = *sink.error();
  else if (!outcome.ok) failure = providers::caller_safe(outcome.error, *ctx.config);  // upstream text, untrusted
  if (ctx.usage.present == false && outcome.usage.present) ctx.usage = outcome.usage;
  if (ctx.finish_reason.empty()) ctx.finish_reason = outcome.finish_reason;

  if (ex.client_gone()) {
    ctx.status = 499;
    ex.access_log().error_code = "client_closed_request";
  } else if (stream && ex.started()) {
    ctx.status = 200;
    if (failure) ex.access_log().error_code = failure->code;
    std::string tail = codec.encode_end(failure ? &*failure : nullptr);
    if (co_await ex.write(tail)) co_await ex.end_stream();
  } else if (failure) {
    co_await respond_error(ex, codec, ctx, *failure, outcome.retry_after);
  } else if (stream) {
    ctx.status = 200;
    PipelineSink::add_answer_headers(ex, ctx);
    bool ok = co_await ex.begin_stream(200, std::string(kEventStream));
    if (ok) ok = co_await ex.write(codec.encode_end(nullptr));
    if (ok) co_await ex.end_stream();
  } else {
    ctx.status = 200;
    PipelineSink::add_answer_headers(ex, ctx);
    co_await ex.respond(200, std::string(kJson), codec.aggregated_body());
  }
  finish(ex, ctx, filters);
}

}  // namespace warden::api
