// The Engine facade on a real tiny model (make-tiny, CPU backend): prefix-cache hit ==
// miss, batch invariance, paged decode == full recompute, preemption, cancellation,
// backpressure, stop strings, seeded sampling. Plus facade behaviour on the paged test
// backend where exact control of the model is needed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <cstdio>
#include <thread>
#include <vector>

#include "unit/engine/scheduler/paged_test_backend.hpp"
#include "warden/engine/backend.hpp"
#include "warden/engine/engine.hpp"
#include "warden/engine/model/tiny_model.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

using namespace warden::engine;
namespace fs = std::filesystem;

namespace {

const std::string& tiny_model_dir() {
  static const std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("warden_e3_engine_test_" + std::to_string(::getpid()));
    fs::remove_all(p);
    TinyModelOptions o;
    o.arch = "qwen2";
    o.out_dir = p.string();
    o.vocab = "tiny";
    o.dtype = DType::F32;
    o.seed = 7;
    write_tiny_model(o);
    return p.string();
  }();
  return dir;
}

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("warden_e3_engine_test_" + std::to_string(::getpid())), ec);
  }
} cleanup;

EngineConfig tiny_config() {
  EngineConfig c;
  c.model_dir = tiny_model_dir();
  c.device = "cpu";
  c.max_num_seqs = 8;
  c.max_num_batched_tokens = 64;
  c.num_blocks = 256;
  c.block_tokens = 16;
  return c;
}

std::vector<int32_t> prompt(int n, int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(10 + (i * 31 + salt * 17) % 400);
  return p;
}

GenerationRequest greedy(std::vector<int32_t> p, int max_tokens) {
  GenerationRequest r;
  r.prompt_tokens = std::move(p);
  r.sampling.temperature = 0;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;  // fixed lengths: random weights may hit EOS anywhere
  return r;
}

// Runs many requests at once; returns each result in submission order.
std::vector<GenerationResult> generate_all(Engine& e, std::vector<GenerationRequest> reqs) {
  std::vector<GenerationResult> out(reqs.size());
  std::vector<std::thread> ts;
  for (size_t i = 0; i < reqs.size(); ++i)
    ts.emplace_back([&, i] { out[i] = e.generate(std::move(reqs[i])); });
  for (auto& t : ts) t.join();
  return out;
}

int32_t argmax(const std::vector<float>& v, size_t off, size_t n) {
  return static_cast<int32_t>(std::max_element(v.begin() + off, v.begin() + off + n) - (v.begin() + off));
}

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  int notified = 0;
  TokenSink sink() {
    return TokenSink{[this] {
      std::lock_guard l(mu);
      ++notified;
      cv.notify_all();
    }};
  }
};

bool drain_until_done(RequestHandle& h, std::vector<GenerationEvent>& evs, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (h.stream->drain(evs)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

}  // namespace

TEST_CASE("prefix-cache hit gives the same output as a miss and reports cached tokens", "[engine][engine_facade]") {
  Engine e(tiny_config());
  auto p = prompt(50, 1);
  auto req = greedy(p, 12);
  req.sampling.logprobs = 5;  // compare the distributions, not just the argmax
  auto miss = e.generate(req);
  REQUIRE(miss.finish_reason == "length");
  CHECK(miss.usage.cached_prompt_tokens == 0);
  auto hit = e.generate(req);
  CHECK(hit.usage.cached_prompt_tokens == 48);  // 3 full blocks of 16; the last token is recomputed
  CHECK(hit.output_tokens == miss.output_tokens);
  REQUIRE(hit.logprobs.size() == 12);
  REQUIRE(miss.logprobs.size() == 12);
  for (size_t i = 0; i < 12; ++i) {
    CHECK(hit.logprobs[i].logprob == Approx(miss.logprobs[i].logprob).margin(1e-5));
    REQUIRE(hit.logprobs[i].top.size() == 5);
    for (size_t k = 0; k < 5; ++k) {
      CHECK(hit.logprobs[i].top[k].first == miss.logprobs[i].top[k].first);
      CHECK(hit.logprobs[i].top[k].second == Approx(miss.logprobs[i].top[k].second).margin(1e-5));
    }
  }
  CHECK(e.stats().prefix_hit_rate > 0.4);

  // Same answer with prefix caching off.
  auto cfg = tiny_config();
  cfg.prefix_caching = false;
  Engine off(cfg);
  auto r = off.generate(greedy(p, 12));
  CHECK(r.output_tokens == miss.output_tokens);
  CHECK(r.usage.cached_prompt_tokens == 0);
}

TEST_CASE("greedy output is identical at batch size 1 and 8 (batch invariance)", "[engine][engine_facade]") {
  std::vector<std::vector<int32_t>> alone;
  {
    auto cfg = tiny_config();
    cfg.max_num_seqs = 1;
    Engine e(cfg);
    for (int i = 0; i < 8; ++i) alone.push_back(e.generate(greedy(prompt(9 + i * 7, i), 10)).output_tokens);
  }
  Engine e(tiny_config());
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < 8; ++i) reqs.push_back(greedy(prompt(9 + i * 7, i), 10));
  auto batched = generate_all(e, std::move(reqs));
  for (int i = 0; i < 8; ++i) {
    INFO("request " << i);
    CHECK(batched[i].output_tokens == alone[i]);
  }
}

TEST_CASE("paged decode through the engine equals full recompute", "[engine][engine_facade]") {
  auto cfg = tiny_config();
  cfg.max_num_batched_tokens = 7;  // chunked prefill too
  Engine e(cfg);
  auto p = prompt(23, 3);
  auto r = e.generate(greedy(p, 8));
  REQUIRE(r.output_tokens.size() == 8);
  auto ref = make_backend(tiny_model_dir(), "cpu");
  ref->allocate_kv(8, 16);
  std::vector<int32_t> ctx = p;
  for (int i = 0; i < 8; ++i) {
    ForwardBatch b;
    b.tokens = ctx;
    SequenceSlice s;
    s.num_new_tokens = static_cast<int32_t>(ctx.size());
    s.num_cached_tokens = 0;
    for (int32_t blk = 0; blk < static_cast<int32_t>((ctx.size() + 15) / 16); ++blk) s.block_table.push_back(blk);
    s.need_logits = true;
    b.seqs.push_back(s);
    std::vector<float> logits;
    ref->forward(b, logits);
    int32_t t = argmax(logits, 0, static_cast<size_t>(ref->vocab_size()));
    INFO("token " << i);
    CHECK(t == r.output_tokens[i]);
    ctx.push_back(r.output_tokens[i]);
  }
}

TEST_CASE("preemption under a tiny KV pool gives the same output", "[engine][engine_facade]") {
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < 6; ++i) reqs.push_back(greedy(prompt(20 + i, i), 24));
  Engine big(tiny_config());
  auto a = generate_all(big, reqs);
  auto cfg = tiny_config();
  cfg.num_blocks = 8;  // 6 sequences of ~45 tokens need 18 blocks
  Engine small(cfg);
  auto b = generate_all(small, reqs);
  CHECK(small.stats().preemptions > 0);
  for (int i = 0; i < 6; ++i) CHECK(b[i].output_tokens == a[i].output_tokens);
  CHECK(small.stats().kv_blocks_used == 0);
}

TEST_CASE("a seeded request samples the same tokens alone or in a batch", "[engine][engine_facade]") {
  auto sampled = [](int seed) {
    GenerationRequest r = greedy(prompt(12, 5), 16);
    r.sampling.temperature = 1.0f;
    r.sampling.top_p = 0.95f;
    r.sampling.seed = static_cast<uint64_t>(seed);
    return r;
  };
  Engine e(tiny_config());
  auto alone = e.generate(sampled(1)).output_tokens;
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < 6; ++i) reqs.push_back(i == 3 ? sampled(1) : greedy(prompt(15 + i, i), 16));
  reqs.push_back(sampled(2));
  auto batch = generate_all(e, std::move(reqs));
  CHECK(batch[3].output_tokens == alone);
  CHECK(batch[6].output_tokens != alone);
}

TEST_CASE("stop strings end the text before the stop string", "[engine][engine_facade]") {
  Engine e(tiny_config());
  GenerationRequest r = greedy(prompt(10, 9), 40);
  auto full = e.generate(r);
  REQUIRE(full.content.size() > 12);
  // Pick a stop string from the middle of the greedy answer.
  std::string stop = full.content.substr(6, 3);
  size_t at = full.content.find(stop);
  r.sampling.stop = {stop};
  auto cut = e.generate(r);
  CHECK(cut.finish_reason == "stop");
  CHECK(cut.content == full.content.substr(0, at));
}

TEST_CASE("cancel frees the request's blocks and ends its stream", "[engine][engine_facade]") {
  Engine e(tiny_config());
  Waiter w;
  auto h = e.submit(greedy(prompt(40, 2), 100000 / 100), w.sink());
  // Wait until it is running, then cancel.
  for (int i = 0; i < 2000 && e.stats().kv_blocks_used == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(e.stats().kv_blocks_used > 0);
  e.cancel(h);
  std::vector<GenerationEvent> evs;
  REQUIRE(drain_until_done(h, evs));
  CHECK(evs.back().type == GenerationEvent::Type::Finish);
  CHECK(evs.back().finish_reason == "cancelled");
  CHECK(e.stats().kv_blocks_used == 0);
  CHECK(e.stats().running == 0);
}

TEST_CASE("a slow consumer pauses only its own request", "[engine][engine_facade]") {
  auto cfg = tiny_config();
  cfg.stream_buffer_events = 2;
  Engine e(cfg);
  Waiter w;
  auto slow = e.submit(greedy(prompt(10, 1), 30), w.sink());
  // The other request finishes while `slow` is never drained.
  auto fast = e.generate(greedy(prompt(10, 2), 30));
  CHECK(fast.finish_reason == "length");
  CHECK(fast.output_tokens.size() == 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(slow.stream->finished());
  CHECK(e.stats().running == 1);
  // Draining lets it continue to the end.
  std::vector<GenerationEvent> evs;
  REQUIRE(drain_until_done(slow, evs));
  CHECK(evs.back().finish_reason == "length");
  CHECK(evs.back().output_tokens.size() == 30);
}

TEST_CASE("invalid requests finish with an error event", "[engine][engine_facade]") {
  Engine e(tiny_config());
  auto empty = e.generate(greedy({}, 5));
  CHECK(empty.finish_reason == "error");
  auto bad = e.generate(greedy({1, 2, 999999}, 5));
  CHECK(bad.finish_reason == "error");
  auto cfg = tiny_config();
  cfg.max_model_len = 32;
  Engine small(cfg);
  auto too_long = small.generate(greedy(prompt(40, 1), 5));
  CHECK(too_long.finish_reason == "error");
  // A request reaching max_model_len stops with "length".
  auto r = small.generate(greedy(prompt(28, 1), 50));
  CHECK(r.finish_reason == "length");
  CHECK(r.usage.completion_tokens == 4);
}

TEST_CASE("EOS ends a generation with finish_reason stop", "[engine][engine_facade]") {
  // With the paged test backend the greedy path is known in advance: make the 3rd greedy
  // token the EOS id.
  auto probe = std::make_unique<testing::PagedTestBackend>(64);
  std::vector<int32_t> ctx = {1, 2, 3};
  std::vector<int32_t> path;
  for (int i = 0; i < 3; ++i) {
    auto l = probe->reference_logits(ctx);
    int32_t t = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    path.push_back(t);
    ctx.push_back(t);
  }
  EngineConfig cfg;
  cfg.num_blocks = 16;
  cfg.block_tokens = 4;
  Engine e(cfg, std::make_unique<testing::PagedTestBackend>(64), nullptr, {path[2]});
  GenerationRequest r;
  r.prompt_tokens = {1, 2, 3};
  r.sampling.temperature = 0;
  r.sampling.max_tokens = 10;
  auto res = e.generate(r);
  CHECK(res.finish_reason == "stop");
  CHECK(res.output_tokens == path);
  CHECK(res.usage.completion_tokens == 3);
  CHECK(res.usage.prompt_tokens == 3);
}

TEST_CASE("a request cancelled right after submit ends with cancelled and leaves no blocks", "[engine][engine_facade]") {
  Engine e(tiny_config());
  for (int i = 0; i < 20; ++i) {
    Waiter w;
    auto h = e.submit(greedy(prompt(30, i), 500), w.sink());
    e.cancel(h);
    std::vector<GenerationEvent> evs;
    REQUIRE(drain_until_done(h, evs));
    CHECK(evs.back().finish_reason == "cancelled");
  }
  CHECK(e.stats().kv_blocks_used == 0);
  CHECK(e.stats().running == 0);
  CHECK(e.stats().waiting == 0);
}

TEST_CASE("warden generate --raw streams the greedy text of the engine", "[engine][engine_facade]") {
  // The CLI (a real process) against an in-process engine on the same model and prompt.
  const std::string text = "The quick brown fox";
  auto tok = std::make_shared<const Tokenizer>(Tokenizer::load(tiny_model_dir() + "/tokenizer.json"));
  Engine e(tiny_config());
  GenerationRequest r;
  r.prompt_tokens = e.tokenizer()->encode_with_special_tokens(text);
  r.sampling.temperature = 0;
  r.sampling.max_tokens = 12;
  auto res = e.generate(r);
  std::vector<int32_t> ids = res.output_tokens;
  auto eos = e.eos_token_ids();
  if (!ids.empty() && std::find(eos.begin(), eos.end(), ids.back()) != eos.end()) ids.pop_back();
  const std::string expected = tok->decode(ids) + "\n";
  REQUIRE(expected.size() > 1);

  std::string cmd = std::string(WARDEN_BINARY) + " generate --model '" + tiny_model_dir() +
                    "' --raw --quiet --temperature 0 --max-tokens 12 --device cpu --prompt '" + text + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int rc = ::pclose(p);
  CHECK(rc == 0);
  CHECK(out == expected);
}
