#include "warden/telemetry/tracing/span.hpp"

#include <random>

#include "../json_text.hpp"

namespace warden::telemetry {

namespace {

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;  // W3C: lower case only
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string random_hex(size_t bytes) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  while (out.size() < bytes * 2) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && out.size() < bytes * 2; ++i, v >>= 4) out += kHex[v & 0xf];
  }
  if (all_zero(out)) out.back() = '1';  // the all-zero id is invalid
  return out;
}

void append_value(std::string& out, const AttributeValue& v) {
  out += '{';
  if (auto* s = std::get_if<std::string>(&v)) {
    out += "\"stringValue\":";
    json_text::append_string(out, *s);
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    out += "\"intValue\":\"" + std::to_string(*i) + '"';  // int64 as a string in OTLP JSON
  } else if (auto* d = std::get_if<double>(&v)) {
    out += "\"doubleValue\":";
    json_text::append_number(out, *d);
  } else if (auto* b = std::get_if<bool>(&v)) {
    out += std::string("\"boolValue\":") + (*b ? "true" : "false");
  } else if (auto* a = std::get_if<std::vector<std::string>>(&v)) {
    out += "\"arrayValue\":{\"values\":[";
    for (size_t k = 0; k < a->size(); ++k) {
      if (k) out += ',';
      out += "{\"stringValue\":";
      json_text::append_string(out, (*a)[k]);
      out += '}';
    }
    out += "]}";
  }
  out += '}';
}

void append_attributes(std::string& out, const Attributes& attrs) {
  out += '[';
  for (size_t k = 0; k < attrs.size(); ++k) {
    if (k) out += ',';
    out += "{\"key\":";
    json_text::append_string(out, attrs[k].first);
    out += ",\"value\":";
    append_value(out, attrs[k].second);
    out += '}';
  }
  out += ']';
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view h) {
  // version(2) '-' trace-id(32) '-' parent-id(16) '-' flags(2) [ '-' ... for future versions ]
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const auto version = h.substr(0, 2), trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
  if (!is_hex(version) || version == "ff" || !is_hex(trace) || !is_hex(span) || !is_hex(flags)) return std::nullopt;
  if (version == "00" && h.size() != 55) return std::nullopt;
  if (h.size() > 55 && h[55] != '-') return std::nullopt;
  if (all_zero(trace) || all_zero(span)) return std::nullopt;
  TraceParent tp;
  tp.trace_id = std::string(trace);
  tp.span_id = std::string(span);
  const int f = std::stoi(std::string(flags), nullptr, 16);
  tp.sampled = (f & 1) != 0;
  return tp;
}

std::string format_traceparent(const TraceParent& tp) {
  return "00-" + tp.trace_id + "-" + tp.span_id + (tp.sampled ? "-01" : "-00");
}

std::string new_trace_id() { return random_hex(16); }
std::string new_span_id() { return random_hex(8); }

std::string otlp_json(const std::vector<Span>& spans, std::string_view service_name) {
  std::string out = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":)";
  json_text::append_string(out, service_name);
  out += R"(}}]},"scopeSpans":[{"scope":{"name":"warden"},"spans":[)";
  for (size_t k = 0; k < spans.size(); ++k) {
    const Span& s = spans[k];
    if (k) out += ',';
    out += "{\"traceId\":\"" + s.trace_id + "\",\"spanId\":\"" + s.span_id + '"';
    if (!s.parent_span_id.empty()) out += ",\"parentSpanId\":\"" + s.parent_span_id + '"';
    out += ",\"name\":";
    json_text::append_string(out, s.name);
    out += ",\"kind\":" + std::to_string(static_cast<int>(s.kind));
    out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_unix_ns) + '"';
    out += ",\"endTimeUnixNano\":\"" + std::to_string(s.end_unix_ns) + '"';
    out += ",\"attributes\":";
    append_attributes(out, s.attributes);
    out += ",\"status\":{\"code\":" + std::to_string(static_cast<int>(s.status));
    if (!s.status_message.empty()) {
      out += ",\"message\":";
      json_text::append_string(out, s.status_message);
    }
    out += "}}";
  }
  out += "]}]}]}";
  return out;
}

}  // namespace warden::telemetry
