#pragma once
// The engine facade (DESIGN §3/§5): requests in, events out, one thread inside that owns
// the backend. Pimpl: no backend or device types leak into this header.
//
//   auto h = engine.submit(std::move(req), TokenSink{[&] { post_wakeup(); }});
//   ... on wake-up: h.stream->drain(events) until it returns true (Finish taken) ...
//   engine.cancel(h);   // client went away: blocks are freed at the next step
//
// Backpressure: each request has a bounded event buffer (RequestStream). When a consumer
// does not drain it, only that request stops being scheduled; the others keep going.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/finish.hpp"
#include "warden/engine/sampler/sampling_params.hpp"

namespace warden::engine {

class Tokenizer;

struct EngineConfig {
  std::string model_dir;          // config.json, *.safetensors, tokenizer.json
  std::string device = "auto";    // auto | cpu | cuda:N
  // > 1: shard the model over this many ranks (parallel/). On the CPU the ranks are
  // threads over an in-process group; the CUDA backend has no multi-GPU path yet, so
  // a CUDA device with tensor_parallel > 1 is refused at load.
  int32_t tensor_parallel = 1;
  int32_t max_num_seqs = 64;
  int32_t max_num_batched_tokens = 2048;  // per-step token budget (chunked prefill)
  int32_t block_tokens = 16;
  int64_t num_blocks = 0;            // 0 = kv_cache_bytes / backend bytes-per-block
  int64_t kv_cache_bytes = 256ll << 20;  // KV budget of a backend without device memory (CPU)
  // Share of the GPU's memory the engine may use in all (weights, activations, KV pool);
  // the KV pool gets what is left of it (a GPU backend's kv_memory_budget). num_blocks wins.
  double gpu_memory_fraction = 0.85;
  bool prefix_caching = true;
  int32_t max_model_len = 0;         // 0 = the backend's max_context (capped by the KV pool)
  size_t stream_buffer_events = 256; // per-request buffer before the request is paused
  // The model's recommended sampling (generation_config.json; Engine(EngineConfig) reads
  // it), for callers that fill a request's unset temperature / top_p / top_k.
  std::optional<float> default_temperature;
  std::optional<float> default_top_p;
  std::optional<int32_t> default_top_k;
  // Diagnostics from the engine thread (level 0 info, 1 warn, 2 error). Never prompt text.
  std::function<void(int level, std::string_view message)> log;
};

struct GenerationRequest {
  std::vector<int32_t> prompt_tokens;  // already templated and tokenized
  sampler::SamplingParams sampling;
  bool starts_in_reasoning = false;  // prompt ends inside `<think>` (R1 generation prompt)
  bool parse_tool_calls = false;     // turn DeepSeek tool-call markup into ToolCall events
  // Thinking budget: once this many tokens were generated inside the thinking block, the
  // engine appends `close_reasoning` (the ids of "\n</think>\n\n") instead of sampling, so
  // the answer starts. Counted tokens include the forced ones until `</think>`.
  std::optional<int32_t> reasoning_budget;
  std::vector<int32_t> close_reasoning;
};

struct GenerationUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache
  int64_t reasoning_tokens = 0;      // generated while inside the thinking block
};

struct TokenLogprobs {
  int32_t token = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // best first
};

struct GenerationEvent {
  enum class Type { Content, Reasoning, ToolCall, Finish };
  Type type = Type::Content;
  std::string text;  // Content / Reasoning delta
  // ToolCall: one whole call.
  int tool_index = 0;
  std::string tool_id;
  std::string tool_name;
  std::string tool_arguments;
  // Finish: why it ended; with FinishReason::Error, error_code says why (typed) and
  // error says it for people.
  FinishReason finish_reason = FinishReason::Stop;
  EngineError error_code = EngineError::None;
  std::string error;
  GenerationUsage usage;              // Finish
  std::vector<int32_t> output_tokens; // Finish: every generated id (EOS included when hit)
  std::vector<TokenLogprobs> logprobs;  // tokens behind this delta (when requested)
  std::chrono::nanoseconds time_to_first_token{0};  // Finish: submit → first sampled token
};

// The bounded per-request buffer between the engine thread and one consumer. Thread-safe.
class RequestStream {
 public:
  // Consumer: moves buffered events to `out`. Returns true once the Finish event has been
  // handed out (nothing more will come).
  bool drain(std::vector<GenerationEvent>& out);
  bool finished() const;

  // Engine side.
  explicit RequestStream(size_t capacity, std::function<void()> on_space)
      : capacity_(capacity), on_space_(std::move(on_space)) {}
  void push(GenerationEvent ev);
  bool full() const;

 private:
  mutable std::mutex mu_;
  std::deque<GenerationEvent> events_;
  size_t capacity_;
  bool finish_pushed_ = false;
  bool finish_taken_ = false;
  mutable bool was_full_ = false;  // set when the engine saw it full: the next drain wakes it
  std::function<void()> on_space_;  // wakes the engine when a paused request may resume
};

struct TokenSink {
  // Called on the engine thread after events were added to the request's stream. Must not
  // block (post a wake-up to the consumer's executor, or signal a condition variable).
  std::function<void()> notify;
};

struct RequestHandle {
  int64_t id = 0;
  std::shared_ptr<RequestStream> stream;
  explicit operator bool() const { return stream != nullptr; }
};

struct EngineStats {
  int64_t waiting = 0;
  int64_t running = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_total = 0;
  double prefix_hit_rate = 0.0;
  int64_t prefix_hit_tokens = 0;
  int64_t preemptions = 0;
  double prompt_tokens_per_s = 0.0;      // over the last second of busy steps
  double generation_tokens_per_s = 0.0;
  int64_t steps = 0;
  int64_t requests_finished = 0;
  bool healthy = true;  // false after an unrecoverable device error: every request now fails
};

// A finished generation, for blocking callers (CLI, tests, bench).
struct GenerationResult {
  std::string content;
  std::string reasoning;
  std::vector<GenerationEvent> tool_calls;
  std::vector<int32_t> output_tokens;
  std::vector<TokenLogprobs> logprobs;  // one per generated token when requested
  FinishReason finish_reason = FinishReason::Stop;
  EngineError error_code = EngineError::None;
  std::string error;
  GenerationUsage usage;
  std::chrono::nanoseconds time_to_first_token{0};
  std::chrono::nanoseconds total_time{0};
};

class Engine {
 public:
  // Loads the model (make_backend) and tokenizer.json from config.model_dir. Throws
  // std::runtime_error with a clear message when they are unusable.
  explicit Engine(EngineConfig config);
  // Uses the given backend; `tokenizer` may be null (events then carry no text, only ids).
  // `eos_token_ids` empty = the tokenizer's <｜end▁of▁sentence｜> when it has one.
  Engine(EngineConfig config, std::unique_ptr<Backend> backend, std::shared_ptr<const Tokenizer> tokenizer,
         std::vector<int32_t> eos_token_ids = {});
  ~Engine();  // cancels everything still running and joins the engine thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe, never blocks on the model. An invalid request (empty prompt, prompt too
  // long) gets a Finish event with FinishReason::Error and its EngineError right away.
  RequestHandle submit(GenerationRequest req, TokenSink sink);
  // Thread-safe. The request's blocks are freed at the next step; a Finish "cancelled"
  // event ends its stream. Unknown or finished handles are ignored.
  void cancel(const RequestHandle& handle);
  // Thread-safe snapshot.
  EngineStats stats() const;
  // Blocking helper: submits and waits for the end. Not for I/O threads.
  GenerationResult generate(GenerationRequest req);

  const Tokenizer* tokenizer() const;  // null when built without one
  const EngineConfig& config() const;
  int32_t max_model_len() const;
  std::vector<int32_t> eos_token_ids() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::engine
