// R1 output parsing: reasoning, content and tool calls, with the text split at every byte.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "warden/engine/output/output_parser.hpp"

using warden::engine::output::OutputItem;
using warden::engine::output::OutputParser;

namespace {

struct Parsed {
  std::string reasoning;
  std::string content;
  std::vector<std::pair<std::string, std::string>> calls;  // name, arguments
  std::vector<int> indices;
  bool operator==(const Parsed&) const = default;
};

void collect(const std::vector<OutputItem>& items, Parsed& p) {
  for (const auto& it : items) {
    switch (it.kind) {
      case OutputItem::Kind::Reasoning: p.reasoning += it.text; break;
      case OutputItem::Kind::Content: p.content += it.text; break;
      case OutputItem::Kind::ToolCall:
        p.calls.emplace_back(it.tool_name, it.tool_arguments);
        p.indices.push_back(it.tool_index);
        break;
    }
  }
}

Parsed parse(const std::vector<std::string>& pieces, bool in_reasoning, bool tools) {
  OutputParser parser(in_reasoning, tools);
  Parsed p;
  for (const auto& piece : pieces) {
    std::vector<OutputItem> items;
    parser.feed(piece, items);
    collect(items, p);
  }
  std::vector<OutputItem> items;
  parser.finish(items);
  collect(items, p);
  return p;
}

// Every 2-way split and the byte-by-byte feed must give the same result as one piece.
void check_all_splits(const std::string& text, bool in_reasoning, bool tools, const Parsed& expected) {
  CHECK(parse({text}, in_reasoning, tools) == expected);
  for (size_t i = 1; i < text.size(); ++i) {
    INFO("split at byte " << i);
    CHECK(parse({text.substr(0, i), text.substr(i)}, in_reasoning, tools) == expected);
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  CHECK(parse(bytes, in_reasoning, tools) == expected);
}

const std::string kCalls = "<｜tool▁calls▁begin｜>";
const std::string kCallsEnd = "<｜tool▁calls▁end｜>";
const std::string kCall = "<｜tool▁call▁begin｜>";
const std::string kCallEnd = "<｜tool▁call▁end｜>";
const std::string kSep = "<｜tool▁sep｜>";

}  // namespace

TEST_CASE("R1 generation starts inside the thinking block", "[engine][output]") {
  Parsed e;
  e.reasoning = "Let me think. 2+2=4 <thin";
  e.content = "The answer is 4.";
  check_all_splits("Let me think. 2+2=4 <thin</think>\n\nThe answer is 4.", true, false, e);
}

TEST_CASE("a model that opens its own <think> block", "[engine][output]") {
  Parsed e;
  e.reasoning = "\nhmm\n";
  e.content = "ok";
  check_all_splits("<think>\nhmm\n</think>\n\nok", false, false, e);
  Parsed plain;
  plain.content = "no <think> here";
  check_all_splits("no <think> here", false, false, plain);
}

TEST_CASE("a generation cut off while thinking is all reasoning", "[engine][output]") {
  Parsed e;
  e.reasoning = "still thinking </thi";
  check_all_splits("still thinking </thi", true, true, e);
}

TEST_CASE("DeepSeek tool-call markup becomes tool calls", "[engine][output]") {
  std::string text = "I will call tools.</think>\n\nSure." + kCalls + kCall + "function" + kSep +
                     "get_weather\n```json\n{\"city\": \"Paris\"}\n```" + kCallEnd + "\n" + kCall + "function" + kSep +
                     "search_docs\n```json\n{\"q\": \"a<b\"}\n```" + kCallEnd + kCallsEnd;
  Parsed e;
  e.reasoning = "I will call tools.";
  e.content = "Sure.";
  e.calls = {{"get_weather", "{\"city\": \"Paris\"}"}, {"search_docs", "{\"q\": \"a<b\"}"}};
  e.indices = {0, 1};
  check_all_splits(text, true, true, e);
}

TEST_CASE("tool parsing off leaves the markup as content", "[engine][output]") {
  std::string text = "x" + kCalls + "y";
  Parsed e;
  e.content = text;
  check_all_splits(text, false, false, e);
}

TEST_CASE("an unfinished tool call is kept as content at the end", "[engine][output]") {
  std::string text = kCalls + kCall + "function" + kSep + "f\n```json\n{\"a\":";
  Parsed e;
  e.content = kCall + "function" + kSep + "f\n```json\n{\"a\":";
  check_all_splits(text, false, true, e);
}

TEST_CASE("text that only looks like the start of a marker is released", "[engine][output]") {
  Parsed e;
  e.content = "a <｜tool and <｜x｜>";
  check_all_splits("a <｜tool and <｜x｜>", false, true, e);
}
