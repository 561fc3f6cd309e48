#pragma once
// A finished span as the OTLP exporter sends it, and the W3C trace context (traceparent).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace warden::telemetry {

using AttributeValue = std::variant<std::string, int64_t, double, bool, std::vector<std::string>>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

enum class SpanKind { Internal = 1, Server = 2, Client = 3 };
enum class SpanStatus { Unset = 0, Ok = 1, Error = 2 };

struct Span {
  std::string trace_id;        // 32 lower-case hex digits
  std::string span_id;         // 16 hex
  std::string parent_span_id;  // 16 hex or empty (root)
  std::string name;
  SpanKind kind = SpanKind::Internal;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  Attributes attributes;
  SpanStatus status = SpanStatus::Unset;
  std::string status_message;
};

// W3C Trace Context: `00-<trace-id>-<parent-id>-<flags>`.
struct TraceParent {
  std::string trace_id;  // 32 hex, not all zero
  std::string span_id;   // 16 hex, not all zero
  bool sampled = false;
};

// The same, as views into the header (no allocation): for the request path.
struct TraceParentView {
  std::string_view trace_id;
  std::string_view span_id;
  bool sampled = false;
};

// nullopt for anything that is not a valid version-00 (or later-version, per the spec's
// forward-compatibility rule) header.
std::optional<TraceParent> parse_traceparent(std::string_view header);
std::optional<TraceParentView> parse_traceparent_view(std::string_view header);
std::string format_traceparent(const TraceParent& tp);

// Random ids (thread-local generator seeded from std::random_device).
std::string new_trace_id();
std::string new_span_id();
// n random lower-case hex digits into out (never all zero), without allocating.
void fill_random_hex(char* out, size_t n);

// One resourceSpans document in OTLP/HTTP JSON encoding.
std::string otlp_json(const std::vector<Span>& spans, std::string_view service_name);

}  // namespace warden::telemetry
