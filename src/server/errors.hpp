#pragma once
// Error bodies the server itself produces (404, 405, 413, ...), in the wire shape of the
// route family the path belongs to: Anthropic shape under /anthropic/ and /v1/messages,
// OpenAI shape elsewhere.
#include <string>
#include <string_view>

namespace warden::server {

bool is_anthropic_path(std::string_view path);
// {"error":{"message","type","param":null,"code"}} or {"type":"error","error":{"type","message"}}
std::string error_body(std::string_view path, int status, std::string_view code, std::string_view message);
void append_json_string(std::string& out, std::string_view s);

}  // namespace warden::server
