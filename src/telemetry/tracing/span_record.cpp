#include "warden/telemetry/tracing/span_record.hpp"

#include <charconv>
#include <cstddef>
#include <cstring>

#include "../json_text.hpp"
#include "warden/common/json_quote.hpp"

namespace warden::telemetry {

namespace {

void copy_hex(char* dst, size_t n, std::string_view src) {
  // Anything but the exact length (a caller bug) leaves zeros, which collectors reject
  // visibly rather than receiving a truncated id.
  if (src.size() == n) std::memcpy(dst, src.data(), n);
  else std::memset(dst, '0', n);
}

// Longest prefix of s no longer than max that does not end inside a UTF-8 sequence.
size_t utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void SpanRecord::reset() {
  std::memset(trace_id_, '0', sizeof trace_id_);
  std::memset(span_id_, '0', sizeof span_id_);
  has_parent_ = false;
  kind_ = SpanKind::Internal;
  status_ = SpanStatus::Unset;
  start_ns_ = end_ns_ = 0;
  name_off_ = name_len_ = 0;
  status_msg_off_ = status_msg_len_ = 0;
  n_attrs_ = 0;
  text_used_ = 0;
  dropped_attrs_ = 0;
}

void SpanRecord::set_trace_id(std::string_view hex32) { copy_hex(trace_id_, 32, hex32); }
void SpanRecord::set_span_id(std::string_view hex16) { copy_hex(span_id_, 16, hex16); }
void SpanRecord::set_parent_span_id(std::string_view hex16) {
  has_parent_ = !hex16.empty();
  if (has_parent_) copy_hex(parent_span_id_, 16, hex16);
}

uint16_t SpanRecord::put_text(std::string_view s, uint16_t& len) {
  const size_t room = kTextBytes - text_used_;
  const size_t n = utf8_prefix(s, room);
  const uint16_t off = text_used_;
  if (n > 0) std::memcpy(text_ + off, s.data(), n);  // an empty view may have a null data()
  text_used_ = static_cast<uint16_t>(text_used_ + n);
  len = static_cast<uint16_t>(n);
  return off;
}

void SpanRecord::set_name(std::string_view prefix, std::string_view rest) {
  uint16_t a = 0, b = 0;
  name_off_ = put_text(prefix, a);
  put_text(rest, b);  // contiguous with the prefix
  name_len_ = static_cast<uint16_t>(a + b);
}

void SpanRecord::set_status(SpanStatus s, std::string_view message) {
  status_ = s;
  status_msg_off_ = put_text(message, status_msg_len_);
}

SpanRecord::Attr* SpanRecord::next_attr(const char* key) {
  if (n_attrs_ >= kMaxAttributes) {
    ++dropped_attrs_;
    return nullptr;
  }
  Attr& a = attrs_[n_attrs_++];
  a.key = key;
  a.key_off = a.key_len = 0;
  a.off = a.len = 0;
  return &a;
}

bool SpanRecord::copy_key(Attr& a, std::string_view key) {
  // A cut key would be a different key: one that does not fit is dropped whole.
  if (key.size() > kMaxCopiedKey || key.size() > kTextBytes - text_used_) {
    --n_attrs_;
    ++dropped_attrs_;
    return false;
  }
  a.key = nullptr;
  uint16_t len = 0;
  a.key_off = put_text(key, len);
  a.key_len = static_cast<uint8_t>(len);
  return true;
}

void SpanRecord::add(const char* key, std::string_view value) {
  if (Attr* a = next_attr(key)) {
    a->type = Type::String;
    a->off = put_text(value, a->len);
  }
}
void SpanRecord::add(const char* key, int64_t value) {
  if (Attr* a = next_attr(key)) {
    a->type = Type::Int;
    a->i = value;
  }
}
void SpanRecord::add(const char* key, double value) {
  if (Attr* a = next_attr(key)) {
    a->type = Type::Double;
    a->d = value;
  }
}
void SpanRecord::add(const char* key, bool value) {
  if (Attr* a = next_attr(key)) {
    a->type = Type::Bool;
    a->b = value;
  }
}

void SpanRecord::add_array(const char* key, const std::vector<std::string>& values) {
  Attr* a = next_attr(key);
  if (!a) return;
  a->type = Type::StringArray;
  a->off = text_used_;
  a->count = 0;
  for (const auto& v : values) {
    if (kTextBytes - text_used_ < 2) break;
    uint16_t len = 0;
    const uint16_t at = text_used_;
    text_used_ += 2;
    put_text(v, len);
    std::memcpy(text_ + at, &len, 2);
    ++a->count;
  }
  a->len = static_cast<uint16_t>(text_used_ - a->off);
}

void SpanRecord::add_array1(const char* key, std::string_view value) {
  Attr* a = next_attr(key);
  if (!a) return;
  a->type = Type::StringArray;
  a->off = text_used_;
  a->count = 0;
  if (kTextBytes - text_used_ >= 2) {
    uint16_t len = 0;
    text_used_ += 2;
    put_text(value, len);
    std::memcpy(text_ + a->off, &len, 2);
    a->count = 1;
  }
  a->len = static_cast<uint16_t>(text_used_ - a->off);
}

void SpanRecord::add_copy_key(std::string_view key, const AttributeValue& value) {
  const uint16_t before = n_attrs_;
  if (auto* s = std::get_if<std::string>(&value)) {
    // Key first so a cut key never happens; the value is then cut to what is left.
    Attr* a = next_attr(nullptr);
    if (!a || !copy_key(*a, key)) return;
    a->type = Type::String;
    a->off = put_text(*s, a->len);
    return;
  }
  if (auto* i = std::get_if<int64_t>(&value)) add(nullptr, *i);
  else if (auto* d = std::get_if<double>(&value)) add(nullptr, *d);
  else if (auto* b = std::get_if<bool>(&value)) add(nullptr, *b);
  else if (auto* v = std::get_if<std::vector<std::string>>(&value)) {
    Attr* a = next_attr(nullptr);
    if (!a || !copy_key(*a, key)) return;
    const uint16_t key_off = a->key_off;
    const uint8_t key_len = a->key_len;
    --n_attrs_;  // add_array takes the same slot again, after the key's text
    add_array(nullptr, *v);
    attrs_[n_attrs_ - 1].key_off = key_off;
    attrs_[n_attrs_ - 1].key_len = key_len;
    return;
  }
  if (n_attrs_ > before) copy_key(attrs_[n_attrs_ - 1], key);
}

void SpanRecord::copy_to(SpanRecord& dst) const {
  std::memcpy(static_cast<void*>(&dst), this, offsetof(SpanRecord, text_));
  std::memcpy(dst.text_, text_, text_used_);
}

void SpanRecord::from_span(const Span& span, SpanRecord& out) {
  out.reset();
  out.set_trace_id(span.trace_id);
  out.set_span_id(span.span_id);
  out.set_parent_span_id(span.parent_span_id);
  out.set_name(span.name);
  out.set_kind(span.kind);
  out.set_times(span.start_unix_ns, span.end_unix_ns);
  for (const auto& [k, v] : span.attributes) out.add_copy_key(k, v);
  out.set_status(span.status, span.status_message);
}

void SpanRecord::append_otlp_json(std::string& out) const {
  out += "{\"traceId\":\"";
  out.append(trace_id_, 32);
  out += "\",\"spanId\":\"";
  out.append(span_id_, 16);
  out += '"';
  if (has_parent_) {
    out += ",\"parentSpanId\":\"";
    out.append(parent_span_id_, 16);
    out += '"';
  }
  out += ",\"name\":";
  append_json_quoted(out, name());
  out += ",\"kind\":";
  append_int(out, static_cast<int>(kind_));
  out += ",\"startTimeUnixNano\":\"";
  append_int(out, start_ns_);
  out += "\",\"endTimeUnixNano\":\"";
  append_int(out, end_ns_);
  out += "\",\"attributes\":[";
  for (uint16_t k = 0; k < n_attrs_; ++k) {
    const Attr& a = attrs_[k];
    if (k) out += ',';
    if (a.key) {  // a literal from warden's code: plain ASCII, nothing to escape
      out += "{\"key\":\"";
      out += a.key;
      out += "\",\"value\":{";
    } else {
      out += "{\"key\":";
      append_json_quoted(out, {text_ + a.key_off, a.key_len});
      out += ",\"value\":{";
    }
    switch (a.type) {
      case Type::String:
        out += "\"stringValue\":";
        append_json_quoted(out, {text_ + a.off, a.len});
        break;
      case Type::Int:
        out += "\"intValue\":\"";  // int64 as a string in OTLP JSON
        append_int(out, a.i);
        out += '"';
        break;
      case Type::Double:
        out += "\"doubleValue\":";
        json_text::append_number(out, a.d);
        break;
      case Type::Bool:
        out += a.b ? "\"boolValue\":true" : "\"boolValue\":false";
        break;
      case Type::StringArray: {
        out += "\"arrayValue\":{\"values\":[";
        const char* p = text_ + a.off;
        for (uint16_t e = 0; e < a.count; ++e) {
          uint16_t len;
          std::memcpy(&len, p, 2);
          if (e) out += ',';
          out += "{\"stringValue\":";
          append_json_quoted(out, {p + 2, len});
          out += '}';
          p += 2 + len;
        }
        out += "]}";
        break;
      }
    }
    out += "}}";
  }
  out += ']';
  if (dropped_attrs_) {
    out += ",\"droppedAttributesCount\":";
    append_int(out, dropped_attrs_);
  }
  out += ",\"status\":{\"code\":";
  append_int(out, static_cast<int>(status_));
  if (status_msg_len_) {
    out += ",\"message\":";
    append_json_quoted(out, {text_ + status_msg_off_, status_msg_len_});
  }
  out += "}}";
}

void otlp_json_open(std::string& out, std::string_view service_name) {
  out += R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":)";
  json_text::append_string(out, service_name);
  out += R"(}}]},"scopeSpans":[{"scope":{"name":"warden"},"spans":[)";
}

void otlp_json_close(std::string& out) { out += "]}]}]}"; }

}  // namespace warden::telemetry
