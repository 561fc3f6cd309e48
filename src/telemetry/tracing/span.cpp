#include "warden/telemetry/tracing/span.hpp"

#include <random>

#include "warden/telemetry/tracing/span_record.hpp"

namespace warden::telemetry {

namespace {

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;  // W3C: lower case only
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

std::optional<TraceParentView> parse_traceparent_view(std::string_view h) {
  // version(2) '-' trace-id(32) '-' parent-id(16) '-' flags(2) [ '-' ... for future versions ]
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const auto version = h.substr(0, 2), trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
  if (!is_hex(version) || version == "ff" || !is_hex(trace) || !is_hex(span) || !is_hex(flags)) return std::nullopt;
  if (version == "00" && h.size() != 55) return std::nullopt;
  if (h.size() > 55 && h[55] != '-') return std::nullopt;
  if (all_zero(trace) || all_zero(span)) return std::nullopt;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  return TraceParentView{trace, span, ((nibble(flags[0]) * 16 + nibble(flags[1])) & 1) != 0};
}

std::optional<TraceParent> parse_traceparent(std::string_view h) {
  auto v = parse_traceparent_view(h);
  if (!v) return std::nullopt;
  TraceParent tp;
  tp.trace_id = std::string(v->trace_id);
  tp.span_id = std::string(v->span_id);
  tp.sampled = v->sampled;
  return tp;
}

std::string format_traceparent(const TraceParent& tp) {
  return "00-" + tp.trace_id + "-" + tp.span_id + (tp.sampled ? "-01" : "-00");
}

void fill_random_hex(char* out, size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  bool zero = true;
  for (size_t i = 0; i < n;) {
    uint64_t v = rng();
    for (int k = 0; k < 16 && i < n; ++k, ++i, v >>= 4) {
      out[i] = kHex[v & 0xf];
      zero = zero && out[i] == '0';
    }
  }
  if (zero && n) out[n - 1] = '1';  // the all-zero id is invalid
}

std::string new_trace_id() {
  std::string s(32, '0');
  fill_random_hex(s.data(), s.size());
  return s;
}
std::string new_span_id() {
  std::string s(16, '0');
  fill_random_hex(s.data(), s.size());
  return s;
}

std::string otlp_json(const std::vector<Span>& spans, std::string_view service_name) {
  std::string out;
  otlp_json_open(out, service_name);
  SpanRecord r;
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k) out += ',';
    SpanRecord::from_span(spans[k], r);
    r.append_otlp_json(out);
  }
  otlp_json_close(out);
  return out;
}

}  // namespace warden::telemetry
