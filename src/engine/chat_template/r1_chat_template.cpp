#include "warden/engine/chat_template/r1_chat_template.hpp"

#include <string_view>

namespace warden::engine {

namespace {

constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kThinkClose = "</think>";

void append_tool_call(std::string& out, const ToolCall& call) {
  out += "<｜tool▁call▁begin｜>";
  out += call.type;
  out += "<｜tool▁sep｜>";
  out += call.name;
  out += "\n```json\n";
  out += call.arguments;
  out += "\n```<｜tool▁call▁end｜>";
}

}  // namespace

// Mirrors the Jinja template statement by statement (see the header for the quirks it keeps);
// the `ns.*` flags below are the template's namespace variables.
std::string render_r1_chat(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options) {
  bool is_first = false;  // the template never resets it: only the first call ever opens a block
  bool is_tool = false;
  bool is_output_first = true;
  std::string_view system_prompt;
  for (const auto& m : messages) {
    if (m.role == "system") system_prompt = m.content ? std::string_view(*m.content) : std::string_view();
  }

  std::string out;
  out += options.bos_token;
  out += system_prompt;
  for (const auto& m : messages) {
    const std::string_view content = m.content ? std::string_view(*m.content) : std::string_view();
    if (m.role == "user") {
      is_tool = false;
      out += kUser;
      out += content;
    } else if (m.role == "assistant") {
      const bool content_is_none = !m.content || (m.content->empty() && !m.tool_calls.empty());
      if (content_is_none) {
        is_tool = false;
        for (const auto& call : m.tool_calls) {
          if (!is_first) {
            out += kAssistant;
            out += "<｜tool▁calls▁begin｜>";
            append_tool_call(out, call);
            is_first = true;
          } else {
            out += '\n';
            append_tool_call(out, call);
            out += "<｜tool▁calls▁end｜>";
            out += kEos;
          }
        }
      } else if (is_tool) {
        out += "<｜tool▁outputs▁end｜>";
        out += content;
        out += kEos;
        is_tool = false;
      } else {
        std::string_view text = content;
        if (const size_t pos = text.rfind(kThinkClose); pos != std::string_view::npos)
          text = text.substr(pos + kThinkClose.size());  // reasoning is not fed back
        out += kAssistant;
        out += text;
        out += kEos;
      }
    } else if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out += "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>";
        is_output_first = false;
      } else {
        out += "\n<｜tool▁output▁begin｜>";
      }
      out += content;
      out += "<｜tool▁output▁end｜>";
    }
  }
  if (is_tool) out += "<｜tool▁outputs▁end｜>";
  if (options.add_generation_prompt && !is_tool) {
    out += kAssistant;
    out += "<think>\n";
  }
  return out;
}

}  // namespace warden::engine
