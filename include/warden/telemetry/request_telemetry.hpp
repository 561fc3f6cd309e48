#pragma once
// The hooks the chat pipeline and the router call; all work (metrics, ledger row, spans)
// happens here. Each is cheap on the request path: relaxed atomics on cached series, one
// queue append for the ledger, one for the span exporter.
#include <chrono>
#include <string_view>

namespace warden::policy {
struct RequestContext;
}
namespace warden::providers {
struct Outcome;
}

namespace warden::telemetry {

// After decode, before the filters: trace context from the caller's `traceparent` (or a
// new trace), and a `traceparent` response header naming warden's span (tracing on only).
void begin_request(policy::RequestContext& ctx);

// Once per request, after the filters' on_complete (cost and usage are final): request,
// latency, TTFT, token and cost metrics, policy decision counters, the ledger row and the
// request span. error_code: the stable error code answered, empty on success.
void record_request(const policy::RequestContext& ctx, std::string_view error_code = {});

// After each upstream attempt of the router: attempts/retries/fallbacks/upstream error
// counters and a child span. `attempt` is 1-based per target.
void record_attempt(const policy::RequestContext& ctx, std::string_view target, int attempt,
                    std::chrono::steady_clock::time_point started, const providers::Outcome& outcome);

// Holds warden_active_streams up while a streamed answer is in flight.
class ActiveStream {
 public:
  explicit ActiveStream(bool stream);
  ~ActiveStream();
  ActiveStream(const ActiveStream&) = delete;
  ActiveStream& operator=(const ActiveStream&) = delete;

 private:
  bool stream_;
};

}  // namespace warden::telemetry
