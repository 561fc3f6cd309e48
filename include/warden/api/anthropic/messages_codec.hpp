#pragma once
// The Anthropic Messages wire format as a ChatCodec (POST /anthropic/v1/messages). One
// per request.
#include <optional>

#include "warden/api/anthropic/messages_encode.hpp"
#include "warden/api/chat_codec.hpp"

namespace warden::api::anthropic {

class MessagesCodec final : public ChatCodec {
 public:
  policy::WireFormat wire() const override { return policy::WireFormat::Anthropic; }
  Result<ChatRequest> decode(std::string_view body) override;
  void begin(const ChatRequest& req) override;
  std::string encode_error(const Error& error) const override { return error_body(error); }
  std::string encode_event(const StreamEvent& ev) override;
  std::string encode_end(const Error* error) override;
  void aggregate(const StreamEvent& ev) override;
  std::string aggregated_body() override;

 private:
  std::string model_;
  std::optional<EventEncoder> events_;
  std::optional<MessageAggregator> aggregator_;
};

}  // namespace warden::api::anthropic
