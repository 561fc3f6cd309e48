#pragma once
// The engine's own view of a chat turn (the engine does not depend on src/api; the local
// provider converts the canonical request into these).
#include <optional>
#include <string>
#include <vector>

namespace warden::engine {

struct ToolCall {
  std::string id;                 // not rendered by the R1 template; kept for round trips
  std::string type = "function";
  std::string name;
  std::string arguments;          // JSON text, rendered verbatim
};

struct ChatMessage {
  std::string role;                    // "system" | "user" | "assistant" | "tool"
  std::optional<std::string> content;  // nullopt = JSON null (an assistant turn that only calls tools)
  std::string reasoning;               // assistant reasoning; never rendered back into the prompt
  std::vector<ToolCall> tool_calls;    // assistant only
  std::string tool_call_id;            // tool only; not rendered by the R1 template
};

}  // namespace warden::engine
