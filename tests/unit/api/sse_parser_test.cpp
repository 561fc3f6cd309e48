#include "warden/api/sse_parser.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using warden::api::SseEvent;
using warden::api::SseParser;

namespace {

std::string describe(const SseEvent& e) {
  return (e.comment ? "C[" : "E[") + e.event + "|" + e.id + "|" + e.data + "]";
}

std::vector<std::string> parse_whole(std::string_view in) {
  std::vector<std::string> out;
  SseParser p;
  auto cb = [&](SseEvent& e) { out.push_back(describe(e)); };
  p.feed(in, cb);
  p.finish(cb);
  return out;
}

// A DeepSeek-like stream mixing every line ending, comments, multi-line data and fields.
const std::string kStream =
    ": keep-alive\r\n\r\n"
    "data: {\"a\":1}\n\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n\r\n"
    "data: line one\r"
    "data: line two\r\r"
    "id: 7\n"
    "data:no-space\n"
    "retry: 100\n\n"
    ":comment without space\n"
    "data: caf\xC3\xA9 \xE2\x9C\x93\n\n"
    "data: [DONE]\n\n";

}  // namespace

TEST_CASE("SSE parser reads events, comments and fields", "[sse]") {
  auto events = parse_whole(kStream);
  std::vector<std::string> want = {
      "C[||keep-alive]",
      "E[||{\"a\":1}]",
      "E[message_start||{\"type\":\"message_start\"}]",
      "E[||line one\nline two]",
      "E[|7|no-space]",
      "C[||comment without space]",
      "E[||caf\xC3\xA9 \xE2\x9C\x93]",
      "E[||[DONE]]",
  };
  CHECK(events == want);
}

TEST_CASE("SSE parser gives the same events for the stream split at every byte offset", "[sse]") {
  const auto whole = parse_whole(kStream);
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    std::vector<std::string> out;
    SseParser p;
    auto cb = [&](SseEvent& e) { out.push_back(describe(e)); };
    p.feed(std::string_view(kStream).substr(0, cut), cb);
    p.feed(std::string_view(kStream).substr(cut), cb);
    p.finish(cb);
    INFO("cut at " << cut);
    REQUIRE(out == whole);
  }
}

TEST_CASE("SSE parser fed one byte at a time and in two cuts gives the same events", "[sse]") {
  const auto whole = parse_whole(kStream);
  {
    std::vector<std::string> out;
    SseParser p;
    auto cb = [&](SseEvent& e) { out.push_back(describe(e)); };
    for (char c : kStream) p.feed(std::string_view(&c, 1), cb);
    p.finish(cb);
    CHECK(out == whole);
  }
  // Every pair of cut points on a smaller stream with \r\n line ends.
  const std::string s = "data: x\r\n\r\n: keep-alive\r\n\r\ndata: y\r\ndata: z\r\n\r\n";
  const auto ref = parse_whole(s);
  REQUIRE(ref.size() == 3);
  for (size_t a = 0; a <= s.size(); ++a) {
    for (size_t b = a; b <= s.size(); ++b) {
      std::vector<std::string> out;
      SseParser p;
      auto cb = [&](SseEvent& e) { out.push_back(describe(e)); };
      p.feed(std::string_view(s).substr(0, a), cb);
      p.feed(std::string_view(s).substr(a, b - a), cb);
      p.feed(std::string_view(s).substr(b), cb);
      p.finish(cb);
      INFO("cuts " << a << "," << b);
      REQUIRE(out == ref);
    }
  }
}

TEST_CASE("SSE parser: blank lines alone dispatch nothing; a last event without its blank line is kept", "[sse]") {
  CHECK(parse_whole("\n\n\r\n\r\r").empty());
  CHECK(parse_whole("event: ping\n\n").empty());  // no data: not dispatched (EventSource rule)
  auto last = parse_whole("data: tail");
  REQUIRE(last.size() == 1);
  CHECK(last[0] == "E[||tail]");
  // Events are not dispatched before their blank line arrives.
  SseParser p;
  int n = 0;
  auto cb = [&](SseEvent&) { ++n; };
  p.feed("data: a\n", cb);
  CHECK(n == 0);
  p.feed("\n", cb);
  CHECK(n == 1);
}
