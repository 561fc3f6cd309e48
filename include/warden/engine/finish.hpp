#pragma once
// Why a generation ended, and why the engine refused or failed one: typed values, decided
// once where they happen. Consumers switch on them (the local provider maps
// PromptTooLong to a 400 context_length_exceeded) instead of searching message text; the
// message stays for people. FinishReason compares equal to its OpenAI spelling
// (`reason == "length"`), so logs and tests read naturally.
#include <cstdint>
#include <ostream>
#include <string_view>

namespace warden::engine {

enum class FinishReason : uint8_t { Stop, Length, ToolCalls, Cancelled, Error };

// The OpenAI wire spelling: stop | length | tool_calls | cancelled | error.
constexpr std::string_view to_string(FinishReason r) {
  switch (r) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::ToolCalls: return "tool_calls";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "error";
}
constexpr bool operator==(FinishReason r, std::string_view s) { return to_string(r) == s; }
inline std::ostream& operator<<(std::ostream& os, FinishReason r) { return os << to_string(r); }

// Set with FinishReason::Error; None otherwise.
enum class EngineError : uint8_t {
  None,
  EmptyPrompt,
  PromptTooLong,       // the prompt leaves no room to generate within max_model_len
  TokenOutOfRange,     // a prompt id >= the model's vocabulary
  InvalidMaxTokens,    // max_tokens <= 0
  BackendUnavailable,  // the device failed unrecoverably earlier: every request fails
  StepFailed,          // the model step threw (device error, out of memory)
};

constexpr std::string_view to_string(EngineError e) {
  switch (e) {
    case EngineError::None: return "none";
    case EngineError::EmptyPrompt: return "empty_prompt";
    case EngineError::PromptTooLong: return "prompt_too_long";
    case EngineError::TokenOutOfRange: return "token_out_of_range";
    case EngineError::InvalidMaxTokens: return "invalid_max_tokens";
    case EngineError::BackendUnavailable: return "backend_unavailable";
    case EngineError::StepFailed: return "step_failed";
  }
  return "none";
}
inline std::ostream& operator<<(std::ostream& os, EngineError e) { return os << to_string(e); }

}  // namespace warden::engine
