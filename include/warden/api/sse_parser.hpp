#pragma once
// Incremental Server-Sent Events parser (WHATWG EventSource rules): lines end in \n,
// \r\n or \r (a \r\n split across two feeds counts once), `:` lines are comments,
// several `data:` lines join with \n, a blank line dispatches. Bytes may arrive split
// at any offset. Not thread-safe; one parser per upstream response.
#include <functional>
#include <string>
#include <string_view>

namespace warden::api {

struct SseEvent {
  bool comment = false;  // a `:` line (e.g. DeepSeek's `: keep-alive`); text in `data`
  std::string event;     // `event:` field, empty = "message"
  std::string data;      // joined `data:` lines
  std::string id;
};

class SseParser {
 public:
  using Callback = std::function<void(SseEvent&)>;

  // Parses `bytes`, calling `cb` for every complete event and every comment line.
  void feed(std::string_view bytes, const Callback& cb);
  // End of input: a final event without its blank line is dispatched (lenient, as
  // upstreams sometimes close right after the last data line).
  void finish(const Callback& cb);
  // Bytes held that do not yet form a complete line.
  size_t pending_bytes() const { return line_.size(); }

 private:
  void line(std::string_view l, const Callback& cb);
  void dispatch(const Callback& cb);

  std::string line_;  // the incomplete line so far
  bool skip_lf_ = false;  // last byte was \r: a leading \n in the next feed ends nothing
  SseEvent pending_;
  bool has_data_ = false;
};

}  // namespace warden::api
