// libFuzzer target: the R1 chat template renderer. The input is split into messages on
// 0x00 bytes; each message's first byte picks its role, whether content is null, and
// whether it carries a tool call (name/arguments from the text).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "warden/engine/chat_template/r1_chat_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* roles[] = {"system", "user", "assistant", "tool", "developer", ""};
  std::vector<warden::engine::ChatMessage> messages;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty() && messages.size() < 64) {
    auto cut = rest.find('\0');
    std::string_view part = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
    warden::engine::ChatMessage m;
    const unsigned char k = part.empty() ? 0 : static_cast<unsigned char>(part[0]);
    if (!part.empty()) part.remove_prefix(1);
    m.role = roles[k % 6];
    if (k & 0x40) m.content = std::nullopt;
    else m.content = std::string(part);
    if (k & 0x80) {
      warden::engine::ToolCall tc;
      auto half = part.size() / 2;
      tc.name = std::string(part.substr(0, half));
      tc.arguments = std::string(part.substr(half));
      m.tool_calls.push_back(std::move(tc));
    }
    messages.push_back(std::move(m));
  }
  warden::engine::ChatTemplateOptions opts;
  opts.add_generation_prompt = size % 2 == 0;
  auto text = warden::engine::render_r1_chat(messages, opts);
  return text.size() == static_cast<size_t>(-1);
}
