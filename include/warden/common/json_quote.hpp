#pragma once
// JSON string quoting for the places that write small JSON documents by hand (config
// diagnostics, audit records, tokenizer files, admin state). Bytes are copied as they
// are; callers that must repair invalid UTF-8 use api/json_writer instead.
#include <string>
#include <string_view>

namespace warden {

// Appends `s` as a quoted JSON string: escapes quote, backslash and control characters.
void append_json_quoted(std::string& out, std::string_view s);

inline std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_quoted(out, s);
  return out;
}

}  // namespace warden
