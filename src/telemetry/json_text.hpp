#pragma once
// Minimal JSON text helpers for telemetry's own documents (admin answers, OTLP bodies).
// Telemetry writes only ASCII keys and values it controls plus request metadata, so this
// escapes control characters and quotes; bytes >= 0x80 are passed through.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace warden::telemetry::json_text {

inline void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
  out.append(buf, r.ptr);
}

}  // namespace warden::telemetry::json_text
