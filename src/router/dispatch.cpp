// router::dispatch — drives the attempts of one request over the route plan: per target,
// breaker and concurrency gate, retries with backoff (same target), then the next target
// (fallback chain). Nothing is retried once the sink has committed bytes to the client.
#include "warden/router/dispatch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "warden/config/config.hpp"
#include "warden/providers/registry.hpp"
#include "warden/router/circuit_breaker.hpp"
#include "warden/router/params.hpp"
#include "warden/router/retry.hpp"
#include "warden/router/route.hpp"
#include "warden/telemetry/request_telemetry.hpp"

namespace warden::router {

namespace asio = boost::asio;

namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

// Sleeps unless cancelled (client gone, server draining). False when cancelled.
asio::awaitable<bool> sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// Forwards one attempt's events and notes whether answer content passed through: a
// non-stream caller's sink aggregates without committing, so "content seen" is what
// makes a failed attempt unsafe to repeat (the caller would get two answers glued).
class AttemptSink final : public providers::EventSink {
 public:
  explicit AttemptSink(providers::EventSink& inner) : inner_(inner) {}
  asio::awaitable<bool> emit(api::StreamEvent ev) override {
    using T = api::StreamEvent::Type;
    if (ev.type == T::Content || ev.type == T::Reasoning || ev.type == T::ToolCall || ev.type == T::Finish)
      content_ = true;
    co_return co_await inner_.emit(std::move(ev));
  }
  bool committed() const override { return inner_.committed(); }
  bool content_seen() const { return content_; }

 private:
  providers::EventSink& inner_;
  bool content_ = false;
};

// A failed attempt that ended because the caller left: the coroutine was cancelled (the
// session saw the client go) or a provider reported the sink refusing events.
bool caller_gone(const providers::Outcome& out, const asio::cancellation_state& cs) {
  if (cs.cancelled() != asio::cancellation_type::none) return true;
  return !out.ok && (out.error.code == "client_closed_request" || out.error.code == "client_closed");
}

providers::Outcome gone_outcome() {
  providers::Outcome o;
  o.error = Error{499, "client_closed_request", "The client closed the connection.", "", ""};
  return o;
}

}  // namespace

asio::awaitable<providers::Outcome> dispatch(policy::RequestContext& ctx, providers::EventSink& sink) {
  providers::Outcome out;
  if (!ctx.config) {
    out.error = Error{500, "internal_error", "no configuration", "server_error", ""};
    co_return out;
  }
  auto planned = plan_route(*ctx.config, ctx);
  if (!planned) {
    out.error = planned.error();
    co_return out;
  }
  const RoutePlan& plan = *planned;
  const auto& retries = ctx.config->routing.retries;
  const auto& breaker_cfg = ctx.config->routing.circuit_breaker;
  const auto deadline = retries.deadline_ms > 0 ? ctx.started + std::chrono::milliseconds(retries.deadline_ms)
                                                : Clock::time_point::max();
  const int max_attempts = std::max(1, retries.max_attempts);

  std::optional<providers::Outcome> last;
  int skipped_open = 0, skipped_busy = 0, unbuildable = 0;
  bool deadline_hit = false;

  for (const Candidate& cand : plan.candidates) {
    if (Clock::now() >= deadline) {
      deadline_hit = true;
      break;
    }
    auto provider = providers::provider_for(ctx.config, cand.target->provider);
    if (!provider) {  // validated config makes this a provider that failed to build (bad base_url, engine load)
      ++unbuildable;
      continue;
    }
    auto state = target_state(cand.provider, *cand.target);

    api::ChatRequest req = ctx.request;
    req.model = cand.target->model;
    apply_params(req, cand.target->params_json);
    for (const char* h : {"anthropic-version", "anthropic-beta"})
      if (auto it = ctx.headers.find(h); it != ctx.headers.end()) req.upstream_headers.emplace_back(h, it->second);

    TargetHold hold(state, breaker_cfg);
    for (int attempt = 1;; ++attempt) {
      // Cancelled (caller gone, drain deadline): no further attempt. Checked before any
      // co_await, which would throw once the coroutine is cancelled.
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
        co_return gone_outcome();
      const auto admitted = hold.admit(Clock::now(), cand.target->max_concurrency);
      if (admitted == TargetHold::Admit::BreakerOpen) {
        ++skipped_open;
        break;  // open: the next target at once
      }
      if (admitted == TargetHold::Admit::Busy) {
        ++skipped_busy;
        break;
      }
      ++ctx.attempts;
      ctx.target = cand.label();
      state->attempts.fetch_add(1, std::memory_order_relaxed);
      AttemptSink attempt_sink(sink);
      const auto attempt_started = Clock::now();
      // If this coroutine is cancelled or unwound here, `hold` gives the slot and probe back.
      out = co_await provider->stream(req, attempt_sink);

      if (!out.ok && caller_gone(out, co_await asio::this_coro::cancellation_state)) {
        // The caller hung up: says nothing about the target (not a breaker failure, not an
        // upstream error, never retried or moved to another target).
        hold.neutral();
        out.upstream_status = 0;
        out.retryable = false;
        ctx.usage = out.usage;
        co_return out;
      }
      telemetry::record_attempt(ctx, ctx.target, attempt, attempt_started, out);

      if (out.ok) {
        hold.success(Clock::now());
        ctx.usage = out.usage;
        ctx.finish_reason = out.finish_reason;
        co_return out;
      }
      if (counts_as_failure(out)) {
        state->failures.fetch_add(1, std::memory_order_relaxed);
        hold.failure(Clock::now());
      } else {
        hold.neutral();
      }
      if (sink.committed() || attempt_sink.content_seen()) {
        ctx.usage = out.usage;
        co_return out;  // bytes reached the client: the pipeline ends the stream with an error event
      }
      last = out;
      Verdict verdict = classify(out);
      if (verdict == Verdict::Stop) co_return out;
      if (verdict == Verdict::NextTarget || attempt >= max_attempts) break;
      auto delay = backoff_delay(retries, attempt, out.retry_after, rng());
      if (deadline != Clock::time_point::max() && Clock::now() + delay >= deadline) break;  // try elsewhere now
      if (!co_await sleep_for(delay)) co_return *last;
    }
  }

  if (deadline_hit) {
    out = last.value_or(providers::Outcome{});
    out.ok = false;
    out.error = Error{504, "upstream_timeout", "No target answered within the routing deadline", "server_error", ""};
    co_return out;
  }
  if (last) co_return *last;
  out = providers::Outcome{};
  if (unbuildable && !skipped_open && !skipped_busy) {
    out.error = Error{502, "provider_unavailable", "No provider of '" + plan.alias + "' could be started",
                      "server_error", ""};
  } else if (skipped_busy && !skipped_open) {
    out.error = Error{429, "target_busy", "Every target of '" + plan.alias + "' is at its concurrency limit",
                      "rate_limit_error", ""};
  } else {
    out.error = Error{503, "upstream_unavailable",
                      "No target of '" + plan.alias + "' is available (circuit open)", "server_error", ""};
  }
  co_return out;
}

}  // namespace warden::router
