// RequestOutput: sampled tokens → text, reasoning, tool calls, logprobs and one Finish.
#include "warden/engine/output/request_output.hpp"

#include <algorithm>
#include <cstdio>

namespace warden::engine::output {

GenerationEvent finish_event(FinishReason reason, EngineError code, std::string error) {
  GenerationEvent fin;
  fin.type = GenerationEvent::Type::Finish;
  fin.finish_reason = reason;
  fin.error_code = code;
  fin.error = std::move(error);
  return fin;
}

RequestOutput::RequestOutput(int64_t id, const GenerationRequest& request, std::shared_ptr<RequestStream> stream,
                             TokenSink sink, const Tokenizer* tokenizer, const std::vector<int32_t>& eos_ids,
                             uint64_t tool_salt, Clock::time_point submitted)
    : id_(id),
      params_(request.sampling),
      stream_(std::move(stream)),
      sink_(std::move(sink)),
      eos_ids_(eos_ids),
      tool_salt_(tool_salt),
      stop_(request.sampling.stop),
      parser_(request.starts_in_reasoning, request.parse_tool_calls),
      submitted_(submitted) {
  if (tokenizer) decoder_.emplace(*tokenizer, /*skip_special=*/false);
}

void RequestOutput::emit(const std::vector<OutputItem>& items) {
  for (const auto& item : items) {
    GenerationEvent ev;
    switch (item.kind) {
      case OutputItem::Kind::Content:
        ev.type = GenerationEvent::Type::Content;
        ev.text = item.text;
        break;
      case OutputItem::Kind::Reasoning:
        ev.type = GenerationEvent::Type::Reasoning;
        ev.text = item.text;
        break;
      case OutputItem::Kind::ToolCall: {
        ev.type = GenerationEvent::Type::ToolCall;
        ev.tool_index = item.tool_index;
        char call_id[48];
        std::snprintf(call_id, sizeof call_id, "call_%08llx%04llx%02d",
                      static_cast<unsigned long long>(tool_salt_ & 0xffffffffu),
                      static_cast<unsigned long long>(id_ & 0xffff), item.tool_index);
        ev.tool_id = call_id;
        ev.tool_name = item.tool_name;
        ev.tool_arguments = item.tool_arguments;
        break;
      }
    }
    if (ev.type != GenerationEvent::Type::ToolCall && !pending_logprobs_.empty()) ev.logprobs.swap(pending_logprobs_);
    stream_->push(std::move(ev));
  }
}

std::optional<FinishReason> RequestOutput::on_token(const sampler::SampleResult& s, int64_t generated, int64_t total,
                                                    int32_t max_model_len) {
  output_tokens_.push_back(s.token);
  if (!first_token_) first_token_ = Clock::now();
  if (params_.logprobs >= 0) {
    TokenLogprobs lp{s.token, s.logprob, {}};
    for (const auto& t : s.top) lp.top.emplace_back(t.token, t.logprob);
    pending_logprobs_.push_back(std::move(lp));
  }
  if (parser_.in_reasoning()) ++reasoning_tokens_;
  const bool eos = !params_.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), s.token) != eos_ids_.end();
  const bool stop_id =
      std::find(params_.stop_token_ids.begin(), params_.stop_token_ids.end(), s.token) != params_.stop_token_ids.end();
  if (eos || stop_id) return FinishReason::Stop;
  if (decoder_) {
    const std::string text = decoder_->push(s.token);
    auto res = stop_.feed(text);
    std::vector<OutputItem> items;
    parser_.feed(res.text, items);
    emit(items);
    if (res.stopped) {
      cut_by_stop_string_ = true;
      return FinishReason::Stop;
    }
  }
  if (generated >= params_.max_tokens || total >= max_model_len) return FinishReason::Length;
  return std::nullopt;
}

void RequestOutput::finish(FinishReason reason, GenerationUsage usage, EngineError code, std::string error) {
  std::vector<OutputItem> items;
  const bool natural_end = reason == FinishReason::Stop || reason == FinishReason::Length;
  if (natural_end && !cut_by_stop_string_) {
    const std::string tail = decoder_ ? decoder_->finish() : std::string();
    auto res = stop_.feed(tail);
    std::string text = res.text;
    if (!res.stopped) text += stop_.flush();
    parser_.feed(text, items);
  }
  if (reason != FinishReason::Error) {
    parser_.finish(items);
    emit(items);
  }
  if (reason == FinishReason::Stop && parser_.num_tool_calls() > 0) reason = FinishReason::ToolCalls;
  GenerationEvent fin = finish_event(reason, code, std::move(error));
  usage.reasoning_tokens = reasoning_tokens_;
  fin.usage = usage;
  fin.output_tokens = output_tokens_;
  fin.logprobs.swap(pending_logprobs_);
  if (first_token_) fin.time_to_first_token = *first_token_ - submitted_;
  stream_->push(std::move(fin));
  notify();
}

void RequestOutput::notify() const {
  if (sink_.notify) sink_.notify();
}

}  // namespace warden::engine::output
