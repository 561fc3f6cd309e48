// libFuzzer target: upstream JSON response parsers of both formats — OpenAI-compatible
// stream chunks, whole completions and error bodies, and Anthropic whole messages.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "warden/api/anthropic/stream_decode.hpp"
#include "warden/providers/openai_compat/response_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  namespace oc = warden::providers::openai_compat;
  auto c = oc::parse_chunk(json);
  auto w = oc::parse_completion(json);
  auto e = oc::parse_error_body(size % 2 ? 429 : 500, json);
  bool ok = false;
  auto m = warden::api::anthropic::decode_message_response(json, &ok);
  (void)c;
  (void)w;
  (void)e;
  (void)m;
  return 0;
}
