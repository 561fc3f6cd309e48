#pragma once
// What one request's sampled tokens become on their way to its stream: generated ids and
// logprobs, incremental detokenizing, stop ids and stop strings (with hold-back), the
// <think> / tool-call split, and the one Finish event. Engine thread only; the engine's
// step loop calls on_token() per sampled token and finish() once.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warden/engine/engine.hpp"
#include "warden/engine/output/output_parser.hpp"
#include "warden/engine/sampler/sampler.hpp"
#include "warden/engine/sampler/stop_checker.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"

namespace warden::engine::output {

// A Finish event for a request that ends without output of its own (refused at
// admission, failed step, engine shutdown). RequestOutput::finish builds the others.
GenerationEvent finish_event(FinishReason reason, EngineError code = EngineError::None, std::string error = {});

class RequestOutput {
 public:
  using Clock = std::chrono::steady_clock;

  // `tokenizer` may be null (events then carry ids only); `eos_ids` end the request unless
  // the params ignore EOS; `tool_salt` makes tool-call ids unique across engines.
  RequestOutput(int64_t id, const GenerationRequest& request, std::shared_ptr<RequestStream> stream, TokenSink sink,
                const Tokenizer* tokenizer, const std::vector<int32_t>& eos_ids, uint64_t tool_salt,
                Clock::time_point submitted);

  // Records a sampled token and streams what it completes. `generated` counts this token,
  // `total` is prompt + generated. Returns why the request ends with this token, if it does.
  std::optional<FinishReason> on_token(const sampler::SampleResult& s, int64_t generated, int64_t total,
                                       int32_t max_model_len);

  // Ends the stream: flushes held-back text when the request ended naturally (not when a
  // stop string already cut it, nor on cancel or error), then pushes the Finish with the
  // usage counted so far (`usage` gives prompt, completion and cached tokens). Stop with
  // tool calls becomes tool_calls.
  void finish(FinishReason reason, GenerationUsage usage, EngineError code = EngineError::None,
              std::string error = {});

  // Wakes the consumer (after events were pushed this step).
  void notify() const;
  bool stream_full() const { return stream_->full(); }
  bool in_reasoning() const { return parser_.in_reasoning(); }
  int64_t reasoning_tokens() const { return reasoning_tokens_; }
  const sampler::SamplingParams& params() const { return params_; }
  int64_t id() const { return id_; }

 private:
  void emit(const std::vector<OutputItem>& items);

  int64_t id_;
  sampler::SamplingParams params_;
  std::shared_ptr<RequestStream> stream_;
  TokenSink sink_;
  const std::vector<int32_t>& eos_ids_;
  uint64_t tool_salt_;
  std::optional<IncrementalDecoder> decoder_;
  sampler::StopChecker stop_;
  OutputParser parser_;
  bool cut_by_stop_string_ = false;  // text is already flushed up to the stop string
  int64_t reasoning_tokens_ = 0;
  std::vector<int32_t> output_tokens_;
  std::vector<TokenLogprobs> pending_logprobs_;
  Clock::time_point submitted_;
  std::optional<Clock::time_point> first_token_;
};

}  // namespace warden::engine::output
