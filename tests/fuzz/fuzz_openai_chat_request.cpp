// libFuzzer target: the OpenAI chat request decoder (POST /v1/chat/completions body).
// Any bytes: a ChatRequest or an error, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "warden/api/openai/chat_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = warden::api::openai::decode_chat_request(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)r;
  return 0;
}
