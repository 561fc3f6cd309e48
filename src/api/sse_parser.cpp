#include "warden/api/sse_parser.hpp"

namespace warden::api {

void SseParser::feed(std::string_view bytes, const Callback& cb) {
  size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes[0] == '\n') i = 1;
    skip_lf_ = false;
  }
  while (i < bytes.size()) {
    size_t j = i;
    while (j < bytes.size() && bytes[j] != '\n' && bytes[j] != '\r') ++j;
    if (j == bytes.size()) {
      line_.append(bytes.data() + i, j - i);
      return;
    }
    if (line_.empty()) {
      line(bytes.substr(i, j - i), cb);
    } else {
      line_.append(bytes.data() + i, j - i);
      std::string whole = std::move(line_);
      line_.clear();
      line(whole, cb);
    }
    if (bytes[j] == '\r') {
      if (j + 1 < bytes.size()) {
        if (bytes[j + 1] == '\n') ++j;
      } else {
        skip_lf_ = true;
      }
    }
    i = j + 1;
  }
}

void SseParser::finish(const Callback& cb) {
  if (!line_.empty()) {
    std::string whole = std::move(line_);
    line_.clear();
    line(whole, cb);
  }
  dispatch(cb);
  skip_lf_ = false;
}

void SseParser::line(std::string_view l, const Callback& cb) {
  if (l.empty()) {
    dispatch(cb);
    return;
  }
  if (l[0] == ':') {
    SseEvent c;
    c.comment = true;
    l.remove_prefix(1);
    if (!l.empty() && l[0] == ' ') l.remove_prefix(1);
    c.data.assign(l);
    cb(c);
    return;
  }
  std::string_view field = l, value;
  if (auto colon = l.find(':'); colon != std::string_view::npos) {
    field = l.substr(0, colon);
    value = l.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.event.assign(value);
  } else if (field == "id") {
    pending_.id.assign(value);
  }
  // `retry` and unknown fields are ignored, as EventSource does.
}

void SseParser::dispatch(const Callback& cb) {
  if (has_data_) cb(pending_);
  pending_ = SseEvent{};
  has_data_ = false;
}

}  // namespace warden::api
