#include "warden/api/anthropic/messages_codec.hpp"

#include "warden/api/anthropic/messages_decode.hpp"

namespace warden::api::anthropic {

Result<ChatRequest> MessagesCodec::decode(std::string_view body) { return decode_messages_request(body); }

void MessagesCodec::begin(const ChatRequest& req) {
  model_ = req.model;
  events_.emplace(model_);
  aggregator_.emplace(model_);
}

std::string MessagesCodec::encode_event(const StreamEvent& ev) {
  if (!events_) events_.emplace(model_);
  return events_->encode(ev);
}

std::string MessagesCodec::encode_end(const Error* error) {
  if (!events_) events_.emplace(model_);
  return events_->end(error);
}

void MessagesCodec::aggregate(const StreamEvent& ev) {
  if (!aggregator_) aggregator_.emplace(model_);
  aggregator_->add(ev);
}

std::string MessagesCodec::aggregated_body() {
  if (!aggregator_) aggregator_.emplace(model_);
  return aggregator_->body();
}

}  // namespace warden::api::anthropic
