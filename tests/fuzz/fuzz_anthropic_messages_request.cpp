// libFuzzer target: the Anthropic messages request decoder (POST /anthropic/v1/messages),
// with and without the max_tokens requirement (count_tokens has none).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "warden/api/anthropic/messages_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto a = warden::api::anthropic::decode_messages_request(body, true);
  auto b = warden::api::anthropic::decode_messages_request(body, false);
  (void)a;
  (void)b;
  return 0;
}
