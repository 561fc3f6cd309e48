// Stop strings across token boundaries, with hold-back of partial matches.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "warden/engine/sampler/stop_checker.hpp"

using warden::engine::sampler::StopChecker;

namespace {

struct Outcome {
  std::string text;
  bool stopped = false;
};

Outcome run(std::vector<std::string> stops, const std::vector<std::string>& deltas, std::vector<std::string>* emitted = nullptr) {
  StopChecker c(std::move(stops));
  Outcome o;
  for (const auto& d : deltas) {
    auto r = c.feed(d);
    o.text += r.text;
    if (emitted) emitted->push_back(r.text);
    if (r.stopped) {
      o.stopped = true;
      return o;
    }
  }
  o.text += c.flush();
  return o;
}

}  // namespace

TEST_CASE("a stop string split across deltas at every offset stops with the text before it", "[engine][sampler]") {
  const std::string text = "Hello world. END of story";
  for (size_t i = 1; i < text.size(); ++i) {
    for (size_t j = i; j < text.size(); ++j) {
      auto o = run({"END"}, {text.substr(0, i), text.substr(i, j - i), text.substr(j)});
      CHECK(o.stopped);
      CHECK(o.text == "Hello world. ");
    }
  }
}

TEST_CASE("a partial stop string is held back and released when it does not complete", "[engine][sampler]") {
  std::vector<std::string> emitted;
  auto o = run({"<STOP>"}, {"abc<ST", "O", "P!"}, &emitted);
  CHECK_FALSE(o.stopped);
  CHECK(o.text == "abc<STOP!");
  CHECK(emitted[0] == "abc");  // "<ST" held
  CHECK(emitted[1].empty());   // "<STO" held
  CHECK(emitted[2] == "<STOP!");
  // Flushed at the end of generation when nothing followed.
  auto tail = run({"<STOP>"}, {"abc<ST"});
  CHECK(tail.text == "abc<ST");
}

TEST_CASE("the earliest of several stop strings wins, including multi-byte ones", "[engine][sampler]") {
  auto o = run({"world", "lo w", "。"}, {"hel", "lo wor", "ld"});
  CHECK(o.stopped);
  CHECK(o.text == "hel");
  auto cjk = run({"。"}, {"你好", "\xe3", "\x80\x82", "再见"});
  CHECK(cjk.stopped);
  CHECK(cjk.text == "你好");
}

TEST_CASE("no stop strings passes text straight through", "[engine][sampler]") {
  StopChecker c({});
  auto r = c.feed("a<b");
  CHECK(r.text == "a<b");
  CHECK(c.flush().empty());
}
