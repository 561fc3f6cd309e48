// Reasoning / content / tool-call splitting of generated text (see output_parser.hpp).
#include "warden/engine/output/output_parser.hpp"

#include "warden/engine/sampler/stop_checker.hpp"

namespace warden::engine::output {

namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

OutputParser::OutputParser(bool starts_in_reasoning, bool parse_tool_calls)
    : mode_(starts_in_reasoning ? Mode::Reasoning : Mode::Content), parse_tool_calls_(parse_tool_calls) {}

void OutputParser::feed(std::string_view delta, std::vector<OutputItem>& out) {
  buf_.append(delta);
  run(out, false);
}

void OutputParser::finish(std::vector<OutputItem>& out) {
  run(out, true);
  if (!buf_.empty()) {
    // Whatever is left is an unfinished marker or tool call: keep it visible.
    emit(mode_ == Mode::Reasoning ? OutputItem::Kind::Reasoning : OutputItem::Kind::Content, buf_, out);
    buf_.clear();
  }
}

void OutputParser::emit(OutputItem::Kind kind, std::string_view text, std::vector<OutputItem>& out) {
  if (text.empty()) return;
  at_start_ = false;
  if (!out.empty() && out.back().kind == kind && kind != OutputItem::Kind::ToolCall) {
    out.back().text.append(text);
    return;
  }
  OutputItem item;
  item.kind = kind;
  item.text.assign(text);
  out.push_back(std::move(item));
}

bool OutputParser::parse_call(std::string_view body, OutputItem& call) const {
  size_t sep = body.find(kSep);
  if (sep == std::string_view::npos) return false;
  std::string_view type = trim(body.substr(0, sep));
  std::string_view rest = body.substr(sep + kSep.size());
  std::string_view name, args;
  if (type == "function") {
    // R1 / V3: "function<sep>NAME\n```json\nARGS\n```"
    size_t nl = rest.find('\n');
    name = trim(rest.substr(0, nl));
    args = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    args = trim(args);
    if (args.starts_with("```")) {
      size_t eol = args.find('\n');
      args = eol == std::string_view::npos ? std::string_view{} : args.substr(eol + 1);
    }
    args = trim(args);
    if (args.ends_with("```")) args.remove_suffix(3);
    args = trim(args);
  } else {
    // V3.1 style: "NAME<sep>ARGS"
    name = type;
    args = trim(rest);
  }
  if (name.empty()) return false;
  call.kind = OutputItem::Kind::ToolCall;
  call.tool_name.assign(name);
  call.tool_arguments.assign(args.empty() ? std::string_view("{}") : args);
  return true;
}

void OutputParser::run(std::vector<OutputItem>& out, bool final) {
  for (;;) {
    if (buf_.empty()) return;
    if (mode_ == Mode::Reasoning) {
      size_t close = buf_.find(kThinkClose);
      if (close != std::string::npos) {
        emit(OutputItem::Kind::Reasoning, std::string_view(buf_).substr(0, close), out);
        buf_.erase(0, close + kThinkClose.size());
        mode_ = Mode::Content;
        strip_newlines_ = true;
        continue;
      }
      size_t keep = final ? 0 : sampler::partial_suffix(buf_, {std::string(kThinkClose)});
      emit(OutputItem::Kind::Reasoning, std::string_view(buf_).substr(0, buf_.size() - keep), out);
      buf_.erase(0, buf_.size() - keep);
      return;
    }
    if (mode_ == Mode::Content) {
      if (strip_newlines_) {
        size_t n = buf_.find_first_not_of("\n");
        if (n == std::string::npos) {
          buf_.clear();
          return;
        }
        buf_.erase(0, n);
        strip_newlines_ = false;
      }
      if (at_start_) {
        // A model that opens its own thinking block (prompt without `<think>\n`).
        if (buf_.starts_with(kThinkOpen)) {
          buf_.erase(0, kThinkOpen.size());
          mode_ = Mode::Reasoning;
          at_start_ = false;
          continue;
        }
        if (!final && kThinkOpen.starts_with(buf_)) return;
      }
      if (!parse_tool_calls_) {
        emit(OutputItem::Kind::Content, buf_, out);
        buf_.clear();
        return;
      }
      size_t a = buf_.find(kCallsBegin), b = buf_.find(kCallBegin);
      size_t at = std::min(a, b);
      if (at != std::string::npos) {
        emit(OutputItem::Kind::Content, std::string_view(buf_).substr(0, at), out);
        buf_.erase(0, at == a ? at + kCallsBegin.size() : at);
        mode_ = Mode::ToolCalls;
        continue;
      }
      size_t keep = final ? 0 : sampler::partial_suffix(buf_, {std::string(kCallsBegin), std::string(kCallBegin)});
      emit(OutputItem::Kind::Content, std::string_view(buf_).substr(0, buf_.size() - keep), out);
      buf_.erase(0, buf_.size() - keep);
      return;
    }
    // Mode::ToolCalls: complete calls are emitted; the section end returns to content.
    size_t lead = buf_.find_first_not_of(" \n\r\t");
    if (lead == std::string::npos) {
      if (final) buf_.clear();
      return;
    }
    std::string_view rest = std::string_view(buf_).substr(lead);
    if (rest.starts_with(kCallsEnd)) {
      buf_.erase(0, lead + kCallsEnd.size());
      mode_ = Mode::Content;
      continue;
    }
    if (rest.starts_with(kCallBegin)) {
      size_t end = rest.find(kCallEnd);
      if (end == std::string_view::npos) return;  // wait for the rest of the call
      OutputItem call;
      if (parse_call(rest.substr(kCallBegin.size(), end - kCallBegin.size()), call)) {
        call.tool_index = next_tool_index_++;
        at_start_ = false;
        out.push_back(std::move(call));
        buf_.erase(0, lead + end + kCallEnd.size());
        continue;
      }
      // Malformed call: show it as text rather than losing it.
      mode_ = Mode::Content;
      emit(OutputItem::Kind::Content, std::string_view(buf_).substr(0, lead + end + kCallEnd.size()), out);
      buf_.erase(0, lead + end + kCallEnd.size());
      continue;
    }
    // Could still become a marker: wait; otherwise it is text after the calls.
    if (!final && (std::string_view(kCallsEnd).starts_with(rest) || std::string_view(kCallBegin).starts_with(rest)))
      return;
    mode_ = Mode::Content;
  }
}

}  // namespace warden::engine::output
