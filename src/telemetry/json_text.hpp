#pragma once
// Minimal JSON text helpers for telemetry's own documents (admin answers, OTLP bodies).
// Telemetry writes only ASCII keys and values it controls plus request metadata; strings
// go through the common quoting (control characters and quotes escaped, bytes >= 0x80 as
// they are).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "warden/common/json_quote.hpp"

namespace warden::telemetry::json_text {

inline void append_string(std::string& out, std::string_view s) { append_json_quoted(out, s); }

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
