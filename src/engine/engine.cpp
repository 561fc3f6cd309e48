// Engine facade: inbox → scheduler → runner → sampler → detokenize → stop → parse → stream.
#include "warden/engine/engine.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "warden/engine/kv/block_manager.hpp"
#include "warden/engine/output/output_parser.hpp"
#include "warden/engine/runner/model_runner.hpp"
#include "warden/engine/sampler/sampler.hpp"
#include "warden/engine/sampler/stop_checker.hpp"
#include "warden/engine/scheduler/scheduler.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"
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

struct ActiveRequest {
  int64_t id = 0;
  std::shared_ptr<RequestStream> stream;
  TokenSink sink;
  sampler::SamplingParams params;
  sampler::SamplerState sampler{0};
  uint64_t seed = 0;  // also keys the backend's device sampler (DeviceSampling)
  std::optional<IncrementalDecoder> decoder;
  sampler::StopChecker stop{{}};
  output::OutputParser parser{false, false};
  int64_t reasoning_tokens = 0;
  std::vector<int32_t> output_tokens;
  std::vector<TokenLogprobs> pending_logprobs;
  Clock::time_point submitted;
  std::optional<Clock::time_point> first_token;
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
  // Device sampling (Backend::forward_sample): off for good once the backend says it can't.
  bool device_sampling = true;
  ForwardBatch sample_batch;
  std::vector<DeviceSampling> sample_params;
  std::vector<int32_t> sampled_ids;
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

  void emit_text(ActiveRequest& r, const std::vector<output::OutputItem>& items) {
    for (const auto& item : items) {
      GenerationEvent ev;
      switch (item.kind) {
        case output::OutputItem::Kind::Content:
          ev.type = GenerationEvent::Type::Content;
          ev.text = item.text;
          break;
        case output::OutputItem::Kind::Reasoning:
          ev.type = GenerationEvent::Type::Reasoning;
          ev.text = item.text;
          break;
        case output::OutputItem::Kind::ToolCall: {
          ev.type = GenerationEvent::Type::ToolCall;
          ev.tool_index = item.tool_index;
          char id[48];
          std::snprintf(id, sizeof id, "call_%08llx%04llx%02d", static_cast<unsigned long long>(tool_salt & 0xffffffffu),
                        static_cast<unsigned long long>(r.id & 0xffff), item.tool_index);
          ev.tool_id = id;
          ev.tool_name = item.tool_name;
          ev.tool_arguments = item.tool_arguments;
          break;
        }
      }
      if (ev.type != GenerationEvent::Type::ToolCall && !r.pending_logprobs.empty()) ev.logprobs.swap(r.pending_logprobs);
      r.stream->push(std::move(ev));
    }
  }

  void finish_request(ActiveRequest& r, const std::string& reason, bool flush_text) {
    std::vector<output::OutputItem> items;
    if (flush_text) {
      std::string tail = r.decoder ? r.decoder->finish() : std::string();
      auto res = r.stop.feed(tail);
      std::string text = res.text;
      if (!res.stopped) text += r.stop.flush();
      r.parser.feed(text, items);
    }
    r.parser.finish(items);
    emit_text(r, items);
    GenerationEvent fin;
    fin.type = GenerationEvent::Type::Finish;
    fin.finish_reason = reason;
    if (reason == "stop" && r.parser.num_tool_calls() > 0) fin.finish_reason = "tool_calls";
    if (auto* seq = sched->find(r.id)) {
      fin.usage.prompt_tokens = seq->num_prompt_tokens;
      fin.usage.completion_tokens = seq->num_generated();
      fin.usage.cached_prompt_tokens = std::max(0, seq->num_cached_prompt_tokens);
    }
    fin.usage.reasoning_tokens = r.reasoning_tokens;
    fin.output_tokens = r.output_tokens;
    fin.logprobs.swap(r.pending_logprobs);
    if (r.first_token) fin.time_to_first_token = *r.first_token - r.submitted;
    // Free the blocks and refresh the stats before the consumer can see the Finish.
    sched->finish(r.id);
    {
      std::lock_guard lock(stats_mu);
      ++stats.requests_finished;
    }
    publish_stats();
    r.stream->push(std::move(fin));
    if (r.sink.notify) r.sink.notify();
  }

  // Returns the finish reason when the request ends with this token.
  std::optional<std::string> on_token(ActiveRequest& r, scheduler::Sequence& seq, const sampler::SampleResult& s) {
    seq.tokens.push_back(s.token);
    r.output_tokens.push_back(s.token);
    if (!r.first_token) r.first_token = Clock::now();
    if (r.params.logprobs >= 0) {
      TokenLogprobs lp{s.token, s.logprob, {}};
      for (const auto& t : s.top) lp.top.emplace_back(t.token, t.logprob);
      r.pending_logprobs.push_back(std::move(lp));
    }
    if (r.parser.in_reasoning()) ++r.reasoning_tokens;
    bool is_stop_token = (!r.params.ignore_eos && std::find(eos_ids.begin(), eos_ids.end(), s.token) != eos_ids.end()) ||
                         std::find(r.params.stop_token_ids.begin(), r.params.stop_token_ids.end(), s.token) !=
                             r.params.stop_token_ids.end();
    if (is_stop_token) return std::string("stop");
    if (r.decoder) {
      std::string text = r.decoder->push(s.token);
      auto res = r.stop.feed(text);
      std::vector<output::OutputItem> items;
      r.parser.feed(res.text, items);
      emit_text(r, items);
      if (res.stopped) return std::string("stop!");  // '!' = text already flushed up to the stop string
    }
    if (seq.num_generated() >= r.params.max_tokens) return std::string("length");
    if (seq.num_tokens() >= max_model_len) return std::string("length");
    return std::nullopt;
  }

  void accept(Submission& sub) {
    auto fail = [&](const std::string& msg) {
      GenerationEvent fin;
      fin.type = GenerationEvent::Type::Finish;
      fin.finish_reason = "error";
      fin.error = msg;
      fin.usage.prompt_tokens = static_cast<int64_t>(sub.req.prompt_tokens.size());
      sub.stream->push(std::move(fin));
      if (sub.sink.notify) sub.sink.notify();
    };
    if (!backend->healthy())
      return fail("engine unavailable: backend " + backend->name() + " failed with an unrecoverable device error");
    const auto& p = sub.req.prompt_tokens;
    if (p.empty()) return fail("empty prompt");
    if (static_cast<int64_t>(p.size()) >= max_model_len)
      return fail("prompt of " + std::to_string(p.size()) + " tokens leaves no room to generate (max_model_len " +
                  std::to_string(max_model_len) + ")");
    int32_t vocab = backend->vocab_size();
    for (int32_t t : p)
      if (t < 0 || t >= vocab) return fail("prompt token id out of range");
    if (sub.req.sampling.max_tokens <= 0) return fail("max_tokens must be > 0");

    ActiveRequest r;
    r.id = sub.id;
    r.stream = sub.stream;
    r.sink = std::move(sub.sink);
    r.params = sub.req.sampling;
    r.submitted = sub.submitted;
    uint64_t seed = r.params.seed ? *r.params.seed : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
    r.sampler = sampler::SamplerState(seed);
    r.seed = seed;
    if (tokenizer) r.decoder.emplace(*tokenizer, /*skip_special=*/false);
    r.stop = sampler::StopChecker(r.params.stop);
    r.parser = output::OutputParser(sub.req.starts_in_reasoning, sub.req.parse_tool_calls);

    auto seq = std::make_unique<scheduler::Sequence>();
    seq->id = sub.id;
    seq->tokens = std::move(sub.req.prompt_tokens);
    seq->num_prompt_tokens = seq->num_tokens();
    sched->add(std::move(seq));
    active.emplace(sub.id, std::move(r));
  }

  void step_once() {
    // Backpressure: requests whose buffer is full sit this step out.
    for (auto& [id, r] : active)
      if (auto* seq = sched->find(id)) seq->paused = r.stream->full();

    scheduler::StepPlan plan = sched->schedule();
    if (!plan.preempted.empty()) {
      std::lock_guard lock(stats_mu);
      stats.preemptions += static_cast<int64_t>(plan.preempted.size());
    }
    if (plan.empty()) return;
    auto t0 = Clock::now();
    // Sample on the device when every row that samples needs only its token id (no
    // penalties, no logprobs): only the ids come back instead of rows × vocab floats.
    bool sampled = false;
    if (device_sampling && collect_device_sampling(plan)) {
      runner::build_forward_batch(plan, config.block_tokens, sample_batch);
      sampled = backend->forward_sample(sample_batch, sample_params, sampled_ids);
      if (!sampled) device_sampling = false;  // this backend samples on the host only
    }
    static const std::vector<float> kNoLogits;
    const std::vector<float>& logits = sampled ? kNoLogits : runner->execute(plan);
    sched->commit(plan);

    const int32_t vocab = backend->vocab_size();
    size_t row = 0;
    int64_t prompt_tok = 0, gen_tok = 0;
    std::vector<float> scratch(vocab);
    std::vector<int64_t> touched;
    for (const auto& slice : plan.slices) {
      auto* seq = slice.seq;
      bool is_decode = slice.num_new_tokens == 1 && seq->num_generated() > 0;
      (is_decode ? gen_tok : prompt_tok) += slice.num_new_tokens;
      if (!slice.need_logits) continue;
      const size_t this_row = row++;
      auto it = active.find(seq->id);
      if (it == active.end()) continue;
      ActiveRequest& r = it->second;
      sampler::SampleResult s;
      if (sampled) {
        if (this_row >= sampled_ids.size()) throw std::logic_error("backend returned fewer sampled ids than rows");
        s.token = sampled_ids[this_row];
        r.sampler.observe(s.token);
      } else {
        std::copy_n(logits.begin() + static_cast<std::ptrdiff_t>(this_row * vocab), vocab, scratch.begin());
        s = sampler::sample(scratch, r.params, r.sampler);
      }
      auto reason = on_token(r, *seq, s);
      touched.push_back(seq->id);
      if (reason) {
        bool text_done = *reason == "stop!";
        finish_request(r, text_done ? "stop" : *reason, !text_done);
        active.erase(it);
      }
    }
    for (int64_t id : touched) {
      auto it = active.find(id);
      if (it != active.end() && it->second.sink.notify) it->second.sink.notify();
    }

    auto now = Clock::now();
    (void)t0;  // per-step latency could feed a histogram later
    std::lock_guard lock(stats_mu);
    ++stats.steps;
    window_prompt += prompt_tok;
    window_gen += gen_tok;
    double secs = std::chrono::duration<double>(now - window_start).count();
    if (secs >= 1.0) {
      stats.prompt_tokens_per_s = static_cast<double>(window_prompt) / secs;
      stats.generation_tokens_per_s = static_cast<double>(window_gen) / secs;
      window_prompt = window_gen = 0;
      window_start = now;
    }
  }

  // Fills sample_params (one per need_logits slice, in order); false when some row needs
  // the logits on the host.
  bool collect_device_sampling(const scheduler::StepPlan& plan) {
    sample_params.clear();
    for (const auto& slice : plan.slices) {
      if (!slice.need_logits) continue;
      auto it = active.find(slice.seq->id);
      if (it == active.end()) {  // no longer wanted: any token will do, it is discarded
        sample_params.push_back(DeviceSampling{});
        continue;
      }
      const sampler::SamplingParams& p = it->second.params;
      if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f || p.logprobs >= 0) return false;
      sample_params.push_back(DeviceSampling{p.temperature, p.top_p, p.top_k, it->second.seed,
                                             static_cast<uint64_t>(slice.seq->num_generated())});
    }
    return true;
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
            GenerationEvent fin;
            fin.type = GenerationEvent::Type::Finish;
            fin.finish_reason = "cancelled";
            s.stream->push(std::move(fin));
            if (s.sink.notify) s.sink.notify();
          }
          for (auto& [id, r] : active) finish_request(r, "cancelled", false);
          active.clear();
          return;
        }
      }
      // Accept first: a request cancelled before the engine ever saw it must still end.
      for (auto& s : subs) accept(s);
      for (int64_t id : cancel_ids) {
        auto it = active.find(id);
        if (it == active.end()) continue;
        finish_request(it->second, "cancelled", false);
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
        std::vector<int64_t> ids;
        for (auto& [id, r] : active) ids.push_back(id);
        for (int64_t id : ids) {
          auto& r = active.at(id);
          GenerationEvent fin;
          fin.type = GenerationEvent::Type::Finish;
          fin.finish_reason = "error";
          fin.error = std::string("engine failure: ") + e.what();
          r.stream->push(std::move(fin));
          if (r.sink.notify) r.sink.notify();
          sched->finish(id);
          active.erase(id);
        }
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
