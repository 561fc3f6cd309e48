#pragma once
// A finished span in the form the request thread hands to the OTLP exporter: one fixed-size,
// trivially copyable block (ids as hex characters, attribute keys as pointers to string
// literals, string values copied into an inline text area) so recording a span costs no
// heap allocation and no JSON work on the request thread; the exporter's thread encodes it.
//
// Limits (OTel attribute limits, applied instead of allocating): at most kMaxAttributes
// attributes (further ones are counted in droppedAttributesCount) and kTextBytes of name +
// string values + non-literal keys (a value that does not fit is cut at a UTF-8 boundary).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "warden/telemetry/tracing/span.hpp"

namespace warden::telemetry {

class SpanRecord {
 public:
  // Sized for warden's request span (about 20 attributes, ~200 bytes of text) with room
  // for long model names; the exporter's ring holds max_queue of these (~1.2 KB each).
  static constexpr size_t kMaxAttributes = 24;
  static constexpr size_t kTextBytes = 512;
  static constexpr size_t kMaxCopiedKey = 255;  // longer non-literal keys are dropped

  enum class Type : uint8_t { String, Int, Double, Bool, StringArray };

  // Starts an empty span (ids zero, no attributes). Members are not initialised by the
  // constructor on purpose: a pool of records stays untouched memory until used.
  void reset();

  void set_trace_id(std::string_view hex32);  // 32 lower-case hex digits
  void set_span_id(std::string_view hex16);
  void set_parent_span_id(std::string_view hex16);  // empty: root span
  // name = prefix + rest (e.g. "chat " + model) without a temporary string.
  void set_name(std::string_view prefix, std::string_view rest = {});
  void set_kind(SpanKind k) { kind_ = k; }
  void set_status(SpanStatus s, std::string_view message = {});
  void set_times(int64_t start_unix_ns, int64_t end_unix_ns) {
    start_ns_ = start_unix_ns;
    end_ns_ = end_unix_ns;
  }

  // `key` must outlive the record and need no JSON escaping (a string literal from warden's
  // code). add_copy_key copies (and escapes) any key.
  void add(const char* key, std::string_view value);
  void add(const char* key, int64_t value);
  void add(const char* key, double value);
  void add(const char* key, bool value);
  void add(const char* key, const char* value) { add(key, std::string_view(value)); }
  void add_array(const char* key, const std::vector<std::string>& values);
  void add_array1(const char* key, std::string_view value);  // a one-element string array
  void add_copy_key(std::string_view key, const AttributeValue& value);

  // Everything in `span` (keys copied), subject to the limits above.
  static void from_span(const Span& span, SpanRecord& out);

  // Copies the used part only (fixed fields, attributes, the text written so far).
  void copy_to(SpanRecord& dst) const;

  // One OTLP/HTTP JSON span object ({"traceId":...}) appended to out.
  void append_otlp_json(std::string& out) const;

  std::string_view trace_id() const { return {trace_id_, 32}; }
  std::string_view span_id() const { return {span_id_, 16}; }
  std::string_view name() const { return {text_ + name_off_, name_len_}; }
  size_t attribute_count() const { return n_attrs_; }
  uint32_t dropped_attributes() const { return dropped_attrs_; }

 private:
  struct Attr {        // 24 bytes
    const char* key;  // literal; null: key is text_[key_off, key_off + key_len)
    uint16_t off, len;  // String / StringArray payload in text_
    uint16_t key_off;
    uint8_t key_len;
    Type type;
    union {
      int64_t i;
      double d;
      bool b;
      uint16_t count;  // StringArray: elements, each a 2-byte length then the bytes
    };
  };

  Attr* next_attr(const char* key);
  bool copy_key(Attr& a, std::string_view key);
  // Copies up to what fits (UTF-8 boundary); returns the offset, sets len.
  uint16_t put_text(std::string_view s, uint16_t& len);

  char trace_id_[32];
  char span_id_[16];
  char parent_span_id_[16];
  bool has_parent_;
  SpanKind kind_;
  SpanStatus status_;
  int64_t start_ns_, end_ns_;
  uint16_t name_off_, name_len_;
  uint16_t status_msg_off_, status_msg_len_;
  uint16_t n_attrs_;
  uint16_t text_used_;
  uint32_t dropped_attrs_;
  Attr attrs_[kMaxAttributes];
  char text_[kTextBytes];
};

static_assert(std::is_trivially_copyable_v<SpanRecord>);
static_assert(std::is_standard_layout_v<SpanRecord>);
static_assert(std::is_trivially_default_constructible_v<SpanRecord>);

// The OTLP/HTTP JSON document around spans: open, then append_otlp_json per span with
// commas, then close.
void otlp_json_open(std::string& out, std::string_view service_name);
void otlp_json_close(std::string& out);

}  // namespace warden::telemetry
