// libFuzzer target: the upstream SSE parser. The input is fed in pieces whose sizes come
// from the input itself (so \r\n split across feeds is explored), then finished; every
// event's fields are touched.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "warden/api/sse_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  warden::api::SseParser p;
  size_t sink = 0;
  auto cb = [&](warden::api::SseEvent& e) { sink += e.data.size() + e.event.size() + (e.comment ? 1 : 0); };
  const size_t step = 1 + data[0] % 17;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const size_t n = std::min(step, rest.size());
    p.feed(rest.substr(0, n), cb);
    rest.remove_prefix(n);
  }
  p.finish(cb);
  return sink == static_cast<size_t>(-1);
}
