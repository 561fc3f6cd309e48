#pragma once
// The OpenAI chat.completions wire format as a ChatCodec. One per request.
#include <memory>
#include <optional>

#include "warden/api/chat_codec.hpp"
#include "warden/api/openai/chat_encode.hpp"

namespace warden::api::openai {

class OpenAIChatCodec final : public ChatCodec {
 public:
  policy::WireFormat wire() const override { return policy::WireFormat::OpenAI; }
  Result<ChatRequest> decode(std::string_view body) override;
  void begin(const ChatRequest& req) override;
  std::string encode_error(const Error& error) const override { return error_body(error); }
  std::string encode_event(const StreamEvent& ev) override;
  std::string encode_end(const Error* error) override;
  void aggregate(const StreamEvent& ev) override;
  std::string aggregated_body() override;

 private:
  std::string model_;
  bool include_usage_ = false;
  std::optional<ChunkEncoder> chunks_;
  std::optional<ResponseAggregator> aggregator_;
};

}  // namespace warden::api::openai
