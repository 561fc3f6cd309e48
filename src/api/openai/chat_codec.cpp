#include "warden/api/openai/chat_codec.hpp"

#include "warden/api/openai/chat_decode.hpp"

namespace warden::api::openai {

Result<ChatRequest> OpenAIChatCodec::decode(std::string_view body) { return decode_chat_request(body); }

void OpenAIChatCodec::begin(const ChatRequest& req) {
  model_ = req.model;
  include_usage_ = req.include_usage;
}

std::string OpenAIChatCodec::encode_event(const StreamEvent& ev) {
  if (!chunks_) chunks_.emplace(model_, include_usage_);
  return chunks_->encode(ev);
}

std::string OpenAIChatCodec::encode_end(const Error* error) {
  if (!chunks_) chunks_.emplace(model_, include_usage_);
  return chunks_->end(error);
}

void OpenAIChatCodec::aggregate(const StreamEvent& ev) {
  if (!aggregator_) aggregator_.emplace(model_);
  aggregator_->add(ev);
}

std::string OpenAIChatCodec::aggregated_body() {
  if (!aggregator_) aggregator_.emplace(model_);
  return aggregator_->body();
}

}  // namespace warden::api::openai
