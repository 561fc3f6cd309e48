#pragma once
// Minimal JSON string quoting for the tokenizer file writers (internal).
#include <cstdio>
#include <string>
#include <string_view>

#include "warden/common/json_quote.hpp"

namespace warden::engine::tok {

inline void append_json_string(std::string& out, std::string_view s) { append_json_quoted(out, s); }

}  // namespace warden::engine::tok
