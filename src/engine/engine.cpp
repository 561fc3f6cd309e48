// Engine facade. The engine thread loops: take submissions and cancels from the inbox,
// then one step = schedule (scheduler/) → run (runner/: logits or device-sampled ids) →
// postprocess (sampler/ picks tokens, output/ turns them into events and the Finish).
#include "warden/engine/engine.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "warden/engine/kv/block_manager.hpp"
#include "warden/engine/output/request_output.hpp"
#include "warden/engine/runner/model_runner.hpp"
#include "warden/engine/sampler/sampler.hpp"
#include "warden/engine/scheduler/scheduler.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"

namespace warden::engine {

using Clock = std::chrono::steady_clock;

// ---- RequestStream ----------------------------------------------------------------

bool RequestStream::drain(std::vector<GenerationEvent>& out) {
  bool wake = false;
  bool done;
  {
    std::lock_guard lock(mu_);
    while (!events_.empty()) {
      if (events_.front().type == GenerationEvent::Type::Finish) finish_taken_ = true;
      out.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    if (was_full_) {
      was_full_ = false;
      wake = true;
    }
    done = finish_taken_;
  }
  if (wake && on_space_) on_space_();
  return done;
}

bool RequestStream::finished() const {
  std::lock_guard lock(mu_);
  return finish_taken_;
}

void RequestStream::push(GenerationEvent ev) {
  std::lock_guard lock(mu_);
  if (finish_pushed_) return;
  if (ev.type == GenerationEvent::Type::Finish) finish_pushed_ = true;
  events_.push_back(std::move(ev));
}

bool RequestStream::full() const {
  std::lock_guard lock(mu_);
  bool f = events_.size() >= capacity_;
  if (f) was_full_ = true;
  return f;
}

// ---- Impl -------------------------------------------------------------------------

namespace {

struct Signal {  // shared with streams so a drain can wake the engine even after it died
  std::mutex mu;
  std::condition_variable cv;
  bool dirty = false;
  void wake() {
    {
      std::lock_guard lock(mu);
      dirty = true;
    }
    cv.notify_one();
  }
};

struct Submission {
  int64_t id;
  GenerationRequest req;
  TokenSink sink;
  std::shared_ptr<RequestStream> stream;
  Clock::time_point submitted;
};

// A request the engine runs: how it samples (sampler state, seed) and where its tokens go.
struct ActiveRequest {
  output::RequestOutput out;
  sampler::SamplerState sampler;
  uint64_t seed;  // also keys the backend's device sampler (DeviceSampling)
  std::optional<int32_t> reasoning_budget;
  std::vector<int32_t> close_reasoning;
  std::deque<int32_t> forced;  // tokens appended instead of sampled (a spent thinking budget)
};

}  // namespace

struct Engine::Impl {
  EngineConfig config;
  std::unique_ptr<Backend> backend;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::vector<int32_t> eos_ids;
  int32_t max_model_len = 0;
  std::unique_ptr<kv::BlockManager> blocks;
  std::unique_ptr<scheduler::Scheduler> sched;
  std::unique_ptr<runner::ModelRunner> runner;
  bool unhealthy_logged = false;
  uint64_t tool_salt = 0;

  std::shared_ptr<Signal> signal = std::make_shared<Signal>();
  // Guarded by signal->mu.
  std::vector<Submission> inbox;
  std::vector<int64_t> cancels;
  bool stopping = false;

  std::atomic<int64_t> next_id{1};
  std::unordered_map<int64_t, ActiveRequest> active;  // engine thread only
  std::thread thread;

  mutable std::mutex stats_mu;
  EngineStats stats;
  // Throughput window.
  Clock::time_point window_start = Clock::now();
  int64_t window_prompt = 0, window_gen = 0;

  void log(int level, const std::string& msg) const {
    if (config.log) config.log(level, msg);
  }

  void init() {
    if (!backend) throw std::runtime_error("engine: no backend");
    if (config.block_tokens <= 0) throw std::runtime_error("engine: kv block_tokens must be > 0");
    int64_t nblocks = config.num_blocks;
    int32_t ctx = backend->max_context();
    if (config.max_model_len > 0) ctx = std::min(ctx, config.max_model_len);
    // Activations first, so a device backend's KV budget counts them.
    backend->prepare(config.max_num_batched_tokens, config.max_num_seqs);
    if (nblocks <= 0) {
      size_t per_block = std::max<size_t>(1, backend->kv_bytes_per_block(config.block_tokens));
      const size_t device_budget = backend->kv_memory_budget(config.gpu_memory_fraction);
      const int64_t kv_bytes = device_budget > 0 ? static_cast<int64_t>(std::min<size_t>(device_budget, INT64_MAX))
                                                 : config.kv_cache_bytes;
      nblocks = std::max<int64_t>(1, kv_bytes / static_cast<int64_t>(per_block));
      // More than every sequence at full length is wasted memory.
      int64_t cap = static_cast<int64_t>(config.max_num_seqs) * ((ctx + config.block_tokens - 1) / config.block_tokens) + 1;
      nblocks = std::min(nblocks, cap);
    }
    nblocks = std::min<int64_t>(nblocks, INT32_MAX / 2);
    // One sequence must always fit in the whole pool, so preemption can always make progress.
    max_model_len = static_cast<int32_t>(std::min<int64_t>(ctx, nblocks * config.block_tokens));
    backend->allocate_kv(static_cast<int32_t>(nblocks), config.block_tokens);
    blocks = std::make_unique<kv::BlockManager>(static_cast<int32_t>(nblocks), config.block_tokens, config.prefix_caching);
    sched = std::make_unique<scheduler::Scheduler>(
        scheduler::SchedulerConfig{config.max_num_seqs, config.max_num_batched_tokens}, *blocks);
    runner = std::make_unique<runner::ModelRunner>(*backend, config.block_tokens);
    std::random_device rd;
    tool_salt = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if (tokenizer && eos_ids.empty()) {
      if (auto id = tokenizer->token_id(kR1Eos)) eos_ids.push_back(*id);
    }
    stats.kv_blocks_total = nblocks;
    thread = std::thread([this] { loop(); });
  }

  // ---- one step: schedule → run → postprocess ------------------------------------------

  void step_once() {
    for (auto& [id, r] : active)  // backpressure: a full stream sits this step out
      if (auto* seq = sched->find(id)) seq->paused = r.out.stream_full();
    scheduler::StepPlan plan = sched->schedule();
    count_preemptions(plan);
    if (plan.empty()) return;
    const runner::StepResult rows = runner->run(plan, device_sampling_rows(plan));
    sched->commit(plan);
    postprocess(plan, rows);
  }

  // One entry per need_logits slice: its device sampling, or nullopt when the row needs
  // its logits on the host (penalties, logprobs).
  std::vector<std::optional<DeviceSampling>> device_sampling_rows(const scheduler::StepPlan& plan) const {
    std::vector<std::optional<DeviceSampling>> rows;
    for (const auto& slice : plan.slices) {
      if (!slice.need_logits) continue;
      auto it = active.find(slice.seq->id);
      if (it == active.end()) {  // no longer wanted: any token will do, it is discarded
        rows.emplace_back(DeviceSampling{});
        continue;
      }
      const sampler::SamplingParams& p = it->second.out.params();
      if (p.needs_host_logits(slice.seq->num_generated())) {
        rows.emplace_back(std::nullopt);
      } else {
        rows.emplace_back(DeviceSampling{p.temperature, p.top_p, p.top_k, it->second.seed,
                                         static_cast<uint64_t>(slice.seq->num_generated())});
      }
    }
    return rows;
  }

  // Samples each row (or takes the device's id), feeds it to its request's output, ends
  // the requests that are done, wakes the consumers, counts throughput.
  void postprocess(const scheduler::StepPlan& plan, const runner::StepResult& rows) {
    const int32_t vocab = backend->vocab_size();
    size_t row = 0;
    int64_t prompt_tok = 0, gen_tok = 0;
    std::vector<float> scratch(rows.logits ? static_cast<size_t>(vocab) : 0);
    std::vector<int64_t> touched;
    for (const auto& slice : plan.slices) {
      auto* seq = slice.seq;
      const bool is_decode = slice.num_new_tokens == 1 && seq->num_generated() > 0;
      (is_decode ? gen_tok : prompt_tok) += slice.num_new_tokens;
      if (!slice.need_logits) continue;
      const size_t this_row = row++;
      auto it = active.find(seq->id);
      if (it == active.end()) continue;
      ActiveRequest& r = it->second;
      sampler::SampleResult s;
      if (!r.forced.empty()) {  // the thinking budget is spent: "</think>" is written, not sampled
        s.token = r.forced.front();
        r.forced.pop_front();
        r.sampler.observe(s.token);
      } else if (rows.ids) {
        s.token = (*rows.ids)[this_row];
        r.sampler.observe(s.token);
      } else {
        std::copy_n(rows.logits->begin() + static_cast<std::ptrdiff_t>(this_row * vocab), vocab, scratch.begin());
        s = sampler::sample(scratch, r.out.params(), r.sampler);
      }
      seq->tokens.push_back(s.token);
      touched.push_back(seq->id);
      if (auto reason = r.out.on_token(s, seq->num_generated(), seq->num_tokens(), max_model_len)) {
        end_request(r, *reason);
        active.erase(it);
      } else if (r.reasoning_budget && r.out.in_reasoning() && r.forced.empty() &&
                 r.out.reasoning_tokens() >= *r.reasoning_budget) {
        r.forced.assign(r.close_reasoning.begin(), r.close_reasoning.end());
        r.reasoning_budget.reset();  // once
      }
    }
    for (int64_t id : touched)
      if (auto it = active.find(id); it != active.end()) it->second.out.notify();
    count_throughput(prompt_tok, gen_tok);
  }

  // ---- requests in and out ---------------------------------------------------------------

  void accept(Submission& sub) {
    auto refuse = [&](EngineError code, const std::string& msg) {
      GenerationEvent fin = output::finish_event(FinishReason::Error, code, msg);
      fin.usage.prompt_tokens = static_cast<int64_t>(sub.req.prompt_tokens.size());
      sub.stream->push(std::move(fin));
      if (sub.sink.notify) sub.sink.notify();
    };
    if (!backend->healthy())
      return refuse(EngineError::BackendUnavailable,
                    "engine unavailable: backend " + backend->name() + " failed with an unrecoverable device error");
    const auto& p = sub.req.prompt_tokens;
    if (p.empty()) return refuse(EngineError::EmptyPrompt, "empty prompt");
    if (static_cast<int64_t>(p.size()) >= max_model_len)
      return refuse(EngineError::PromptTooLong, "prompt of " + std::to_string(p.size()) +
                                                    " tokens leaves no room to generate (max_model_len " +
                                                    std::to_string(max_model_len) + ")");
    const int32_t vocab = backend->vocab_size();
    for (int32_t t : p)
      if (t < 0 || t >= vocab) return refuse(EngineError::TokenOutOfRange, "prompt token id out of range");
    if (sub.req.sampling.max_tokens <= 0) return refuse(EngineError::InvalidMaxTokens, "max_tokens must be > 0");

    auto& sp = sub.req.sampling;
    if (sp.min_tokens > 0) {  // the ids min_tokens holds back
      sp.min_tokens_suppressed = sp.stop_token_ids;
      if (!sp.ignore_eos) sp.min_tokens_suppressed.insert(sp.min_tokens_suppressed.end(), eos_ids.begin(), eos_ids.end());
    }
    const uint64_t seed =
        sp.seed ? *sp.seed : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
    sampler::SamplerState state(seed);
    if (sp.repetition_penalty != 1.0f) {
      state.prompt_tokens = p;
      std::sort(state.prompt_tokens.begin(), state.prompt_tokens.end());
      state.prompt_tokens.erase(std::unique(state.prompt_tokens.begin(), state.prompt_tokens.end()),
                                state.prompt_tokens.end());
    }
    active.emplace(sub.id, ActiveRequest{output::RequestOutput(sub.id, sub.req, sub.stream, std::move(sub.sink),
                                                               tokenizer.get(), eos_ids, tool_salt, sub.submitted),
                                         std::move(state), seed, sub.req.reasoning_budget,
                                         std::move(sub.req.close_reasoning), {}});
    auto seq = std::make_unique<scheduler::Sequence>();
    seq->id = sub.id;
    seq->tokens = std::move(sub.req.prompt_tokens);
    seq->num_prompt_tokens = seq->num_tokens();
    sched->add(std::move(seq));
  }

  // Frees the request's blocks and refreshes the stats before its consumer can see the
  // Finish, then ends its stream.
  void end_request(ActiveRequest& r, FinishReason reason, EngineError code = EngineError::None,
                   std::string error = {}) {
    GenerationUsage usage;
    if (auto* seq = sched->find(r.out.id())) {
      usage.prompt_tokens = seq->num_prompt_tokens;
      usage.completion_tokens = seq->num_generated();
      usage.cached_prompt_tokens = std::max(0, seq->num_cached_prompt_tokens);
    }
    sched->finish(r.out.id());
    {
      std::lock_guard lock(stats_mu);
      ++stats.requests_finished;
    }
    publish_stats();
    r.out.finish(reason, usage, code, std::move(error));
  }

  // ---- stats -------------------------------------------------------------------------------

  void count_preemptions(const scheduler::StepPlan& plan) {
    if (plan.preempted.empty()) return;
    std::lock_guard lock(stats_mu);
    stats.preemptions += static_cast<int64_t>(plan.preempted.size());
  }

  void count_throughput(int64_t prompt_tok, int64_t gen_tok) {
    const auto now = Clock::now();
    std::lock_guard lock(stats_mu);
    ++stats.steps;
    window_prompt += prompt_tok;
    window_gen += gen_tok;
    const double secs = std::chrono::duration<double>(now - window_start).count();
    if (secs >= 1.0) {
      stats.prompt_tokens_per_s = static_cast<double>(window_prompt) / secs;
      stats.generation_tokens_per_s = static_cast<double>(window_gen) / secs;
      window_prompt = window_gen = 0;
      window_start = now;
    }
  }

  void publish_stats() {
    std::lock_guard lock(stats_mu);
    stats.healthy = backend->healthy();
    stats.waiting = static_cast<int64_t>(sched->num_waiting());
    stats.running = static_cast<int64_t>(sched->num_running());
    stats.kv_blocks_used = blocks->num_used_blocks();
    stats.prefix_hit_rate = blocks->stats().hit_rate();
    stats.prefix_hit_tokens = blocks->stats().hit_tokens;
    if (sched->idle()) stats.prompt_tokens_per_s = stats.generation_tokens_per_s = 0;
  }

  void loop() {
    for (;;) {
      std::vector<Submission> subs;
      std::vector<int64_t> cancel_ids;
      {
        std::unique_lock lock(signal->mu);
        if (!signal->dirty && inbox.empty() && cancels.empty() && !stopping) {
          // Nothing new: sleep unless there is schedulable work.
          bool has_work = !sched->idle();
          if (!has_work) {
            signal->cv.wait(lock, [&] { return signal->dirty || !inbox.empty() || !cancels.empty() || stopping; });
          }
        }
        signal->dirty = false;
        subs.swap(inbox);
        cancel_ids.swap(cancels);
        if (stopping) {
          lock.unlock();
          for (auto& s : subs) {
            s.stream->push(output::finish_event(FinishReason::Cancelled));
            if (s.sink.notify) s.sink.notify();
          }
          for (auto& [id, r] : active) end_request(r, FinishReason::Cancelled);
          active.clear();
          return;
        }
      }
      // Accept first: a request cancelled before the engine ever saw it must still end.
      for (auto& s : subs) accept(s);
      for (int64_t id : cancel_ids) {
        auto it = active.find(id);
        if (it == active.end()) continue;
        end_request(it->second, FinishReason::Cancelled);
        active.erase(it);
      }

      size_t steps_before = stats_steps();
      try {
        step_once();
      } catch (const std::exception& e) {
        // A failing backend fails the requests of this step rather than the process.
        log(2, std::string("engine step failed: ") + e.what());
        if (!backend->healthy() && !unhealthy_logged) {
          unhealthy_logged = true;
          log(2, "backend " + backend->name() + " is unhealthy: every request now fails until the engine is rebuilt");
        }
        for (auto& [id, r] : active)
          end_request(r, FinishReason::Error, EngineError::StepFailed, std::string("engine failure: ") + e.what());
        active.clear();
      }
      publish_stats();
      if (stats_steps() == steps_before && !sched->idle()) {
        // Work exists but none could run (all paused by backpressure, or waiting on blocks
        // held by paused requests): sleep until a consumer drains or something arrives.
        std::unique_lock lock(signal->mu);
        signal->cv.wait_for(lock, std::chrono::milliseconds(50),
                            [&] { return signal->dirty || !inbox.empty() || !cancels.empty() || stopping; });
      }
    }
  }

  size_t stats_steps() {
    std::lock_guard lock(stats_mu);
    return static_cast<size_t>(stats.steps);
  }
};

// ---- Engine -----------------------------------------------------------------------

Engine::Engine(EngineConfig config, std::unique_ptr<Backend> backend, std::shared_ptr<const Tokenizer> tokenizer,
               std::vector<int32_t> eos_token_ids)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->eos_ids = std::move(eos_token_ids);
  impl_->backend = std::move(backend);
  impl_->tokenizer = std::move(tokenizer);
  impl_->init();
}

Engine::~Engine() {
  {
    std::lock_guard lock(impl_->signal->mu);
    impl_->stopping = true;
  }
  impl_->signal->cv.notify_one();
  if (impl_->thread.joinable()) impl_->thread.join();
}

RequestHandle Engine::submit(GenerationRequest req, TokenSink sink) {
  RequestHandle h;
  h.id = impl_->next_id.fetch_add(1);
  std::weak_ptr<Signal> weak = impl_->signal;
  h.stream = std::make_shared<RequestStream>(std::max<size_t>(1, impl_->config.stream_buffer_events), [weak] {
    if (auto s = weak.lock()) s->wake();
  });
  {
    std::lock_guard lock(impl_->signal->mu);
    impl_->inbox.push_back(Submission{h.id, std::move(req), std::move(sink), h.stream, Clock::now()});
  }
  impl_->signal->cv.notify_one();
  return h;
}

void Engine::cancel(const RequestHandle& handle) {
  if (!handle) return;
  {
    std::lock_guard lock(impl_->signal->mu);
    impl_->cancels.push_back(handle.id);
  }
  impl_->signal->cv.notify_one();
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

GenerationResult Engine::generate(GenerationRequest req) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;
  };
  auto w = std::make_shared<Waiter>();
  auto start = Clock::now();
  RequestHandle h = submit(std::move(req), TokenSink{[w] {
                             {
                               std::lock_guard lock(w->mu);
                               w->ready = true;
                             }
                             w->cv.notify_one();
                           }});
  GenerationResult res;
  std::vector<GenerationEvent> events;
  for (;;) {
    {
      std::unique_lock lock(w->mu);
      w->cv.wait(lock, [&] { return w->ready; });
      w->ready = false;
    }
    events.clear();
    bool done = h.stream->drain(events);
    for (auto& ev : events) {
      for (auto& lp : ev.logprobs) res.logprobs.push_back(std::move(lp));
      switch (ev.type) {
        case GenerationEvent::Type::Content: res.content += ev.text; break;
        case GenerationEvent::Type::Reasoning: res.reasoning += ev.text; break;
        case GenerationEvent::Type::ToolCall: res.tool_calls.push_back(ev); break;
        case GenerationEvent::Type::Finish:
          res.finish_reason = ev.finish_reason;
          res.error_code = ev.error_code;
          res.error = ev.error;
          res.usage = ev.usage;
          res.output_tokens = ev.output_tokens;
          res.time_to_first_token = ev.time_to_first_token;
          break;
      }
    }
    if (done) break;
  }
  res.total_time = Clock::now() - start;
  return res;
}

const Tokenizer* Engine::tokenizer() const { return impl_->tokenizer.get(); }
const EngineConfig& Engine::config() const { return impl_->config; }
int32_t Engine::max_model_len() const { return impl_->max_model_len; }
std::vector<int32_t> Engine::eos_token_ids() const { return impl_->eos_ids; }

}  // namespace warden::engine
