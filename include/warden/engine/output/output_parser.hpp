#pragma once
// Splits a DeepSeek-R1 generation into reasoning, content and tool calls, delta by delta.
//   * `<think>` … `</think>`: reasoning. R1 prompts end with `<think>\n`, so generation
//     starts INSIDE the block (starts_in_reasoning) and only the closer appears.
//   * `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```
//      <｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`: tool calls, each emitted whole once its
//     end marker arrives.
// Streaming-safe: a marker split across deltas (at any byte) is held back until it is
// complete or proven not to be a marker. Thread-compatible (one per request).
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine::output {

struct OutputItem {
  enum class Kind { Content, Reasoning, ToolCall };
  Kind kind = Kind::Content;
  std::string text;       // Content / Reasoning delta
  int tool_index = 0;     // ToolCall: 0, 1, … in order of appearance
  std::string tool_name;  // ToolCall
  std::string tool_arguments;  // ToolCall: the JSON text the model wrote
};

class OutputParser {
 public:
  OutputParser(bool starts_in_reasoning, bool parse_tool_calls);

  void feed(std::string_view delta, std::vector<OutputItem>& out);
  // End of generation: flushes held-back text (an unfinished tool call becomes content).
  void finish(std::vector<OutputItem>& out);

  bool in_reasoning() const { return mode_ == Mode::Reasoning; }
  int num_tool_calls() const { return next_tool_index_; }

 private:
  enum class Mode { Reasoning, Content, ToolCalls };
  void run(std::vector<OutputItem>& out, bool final);
  void emit(OutputItem::Kind kind, std::string_view text, std::vector<OutputItem>& out);
  bool parse_call(std::string_view body, OutputItem& call) const;

  Mode mode_;
  bool parse_tool_calls_;
  bool at_start_ = true;           // nothing emitted yet: a leading `<think>` opens reasoning
  bool strip_newlines_ = false;    // drop the "\n\n" R1 writes right after `</think>`
  int next_tool_index_ = 0;
  std::string buf_;
};

}  // namespace warden::engine::output
