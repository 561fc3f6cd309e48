#pragma once
// The one place warden writes JSON on the request path (wire encoders, error bodies).
// Strings are escaped per RFC 8259 and made valid UTF-8: a byte sequence that is not
// valid UTF-8 becomes U+FFFD, so a broken upstream byte can never produce a body that
// clients fail to parse. Not thread-safe; one writer per body.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warden::api::json {

// Appends `s` as a quoted JSON string.
void append_string(std::string& out, std::string_view s);
// `s` as a quoted JSON string.
std::string quote(std::string_view s);
// Shortest text that reads back as the same double; non-finite → null.
void append_number(std::string& out, double v);
// True when `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::string initial) : out_(std::move(initial)) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& string(std::string_view v);
  Writer& integer(int64_t v);
  Writer& number(double v);
  Writer& boolean(bool v);
  Writer& null();
  // Already-encoded JSON (raw fields kept from the caller), written as is.
  Writer& raw(std::string_view json);

  // Convenience: key + value.
  Writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  Writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  Writer& field_int(std::string_view k, int64_t v) { return key(k).integer(v); }
  Writer& field_bool(std::string_view k, bool v) { return key(k).boolean(v); }
  Writer& field_raw(std::string_view k, std::string_view json) { return key(k).raw(json); }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> has_items_;  // per open container: something written already
  bool after_key_ = false;
};

}  // namespace warden::api::json
