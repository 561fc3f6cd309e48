// Sampler: greedy, seeded determinism, top-k / top-p masks, penalties, logprobs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "warden/engine/sampler/sampler.hpp"

using namespace warden::engine::sampler;

namespace {

std::vector<float> row(std::initializer_list<float> v) { return std::vector<float>(v); }

// Draws n tokens from fresh copies of `logits` with one state.
std::vector<int32_t> draws(const std::vector<float>& logits, const SamplingParams& p, uint64_t seed, int n) {
  SamplerState st(seed);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    auto l = logits;
    out.push_back(sample(l, p, st).token);
  }
  return out;
}

}  // namespace

TEST_CASE("greedy picks the argmax, lowest id on ties", "[engine][sampler]") {
  SamplingParams p;
  p.temperature = 0;
  SamplerState st(1);
  auto l = row({0.1f, 2.0f, -1.0f, 2.0f});
  CHECK(sample(l, p, st).token == 1);
}

TEST_CASE("the same seed gives the same tokens; another seed differs", "[engine][sampler]") {
  std::vector<float> l(50);
  for (int i = 0; i < 50; ++i) l[i] = std::sin(static_cast<float>(i)) * 2;
  SamplingParams p;
  p.temperature = 1.0f;
  auto a = draws(l, p, 42, 40), b = draws(l, p, 42, 40), c = draws(l, p, 43, 40);
  CHECK(a == b);
  CHECK(a != c);
  // Interleaving with another request's draws does not change this request's stream.
  SamplerState mine(42), other(7);
  std::vector<int32_t> interleaved;
  for (int i = 0; i < 40; ++i) {
    auto x = l, y = l;
    sample(y, p, other);
    interleaved.push_back(sample(x, p, mine).token);
  }
  CHECK(interleaved == a);
}

TEST_CASE("temperature sampling follows the softmax distribution", "[engine][sampler]") {
  // p = softmax([0, ln 3]) = [0.25, 0.75]
  auto l = row({0.0f, std::log(3.0f)});
  SamplingParams p;
  auto d = draws(l, p, 5, 20000);
  double ones = 0;
  for (int32_t t : d) ones += t;
  CHECK(ones / 20000 == Approx(0.75).margin(0.02));
  // Temperature 0.5 squares the odds: 9:1.
  p.temperature = 0.5f;
  d = draws(l, p, 6, 20000);
  ones = 0;
  for (int32_t t : d) ones += t;
  CHECK(ones / 20000 == Approx(0.9).margin(0.015));
}

TEST_CASE("top-k keeps only the k most likely tokens", "[engine][sampler]") {
  auto l = row({5.0f, 4.9f, 4.8f, 4.7f, 4.6f, 4.5f});
  SamplingParams p;
  p.top_k = 2;
  p.temperature = 5.0f;  // flatten: without the mask all six would appear
  std::set<int32_t> seen;
  for (int32_t t : draws(l, p, 9, 2000)) seen.insert(t);
  CHECK(seen == std::set<int32_t>{0, 1});
}

TEST_CASE("top-p keeps the smallest set reaching the mass", "[engine][sampler]") {
  // probs 0.5, 0.3, 0.15, 0.05
  auto l = row({std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)});
  SamplingParams p;
  p.top_p = 0.79f;  // 0.5 + 0.3 reaches it → {0, 1}
  std::map<int32_t, int> count;
  for (int32_t t : draws(l, p, 11, 10000)) ++count[t];
  CHECK(count.size() == 2);
  CHECK(count[0] / 10000.0 == Approx(0.5 / 0.8).margin(0.02));
  p.top_p = 0.81f;  // needs the third token too
  std::set<int32_t> seen;
  for (int32_t t : draws(l, p, 12, 4000)) seen.insert(t);
  CHECK(seen == std::set<int32_t>{0, 1, 2});
  p.top_p = 0.01f;  // at least one token survives
  seen.clear();
  for (int32_t t : draws(l, p, 13, 200)) seen.insert(t);
  CHECK(seen == std::set<int32_t>{0});
}

TEST_CASE("presence and frequency penalties push generated tokens down", "[engine][sampler]") {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 0.5f;
  SamplerState st(1);
  st.observe(0);
  auto l = row({1.0f, 0.6f, 0.0f});
  CHECK(sample(l, p, st).token == 1);  // 1.0 - 0.5 < 0.6
  // Frequency: token 1 now seen once (by the sample above), token 0 once.
  SamplingParams f;
  f.temperature = 0;
  f.frequency_penalty = 0.3f;
  SamplerState st2(1);
  for (int i = 0; i < 3; ++i) st2.observe(0);
  auto l2 = row({1.0f, 0.2f, 0.15f});
  CHECK(sample(l2, f, st2).token == 1);  // 1.0 - 0.9 = 0.1 < 0.2
  auto l3 = row({1.0f, 0.2f, 0.15f});
  CHECK(sample(l3, f, st2).token == 2);  // token 1 now penalised once: 0.2 - 0.3 < 0.15
}

TEST_CASE("logprobs report the raw distribution and the top alternatives", "[engine][sampler]") {
  auto l = row({std::log(0.1f), std::log(0.6f), std::log(0.3f)});
  SamplingParams p;
  p.temperature = 0;
  p.logprobs = 2;
  SamplerState st(1);
  auto r = sample(l, p, st);
  CHECK(r.token == 1);
  CHECK(r.logprob == Approx(std::log(0.6)).margin(1e-5));
  REQUIRE(r.top.size() == 2);
  CHECK(r.top[0].token == 1);
  CHECK(r.top[1].token == 2);
  CHECK(r.top[1].logprob == Approx(std::log(0.3)).margin(1e-5));
}

TEST_CASE("top-p over a large vocabulary samples exactly the nucleus", "[engine][sampler]") {
  // Both a peaked row (nucleus inside the best 512) and a flat one (needs the full sort).
  for (float spread : {20.0f, 0.5f}) {
    std::vector<float> l(3000);
    uint64_t x = 88172645463325252ULL;
    for (auto& v : l) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v = spread * static_cast<float>(x % 100000) / 100000.0f;
    }
    // Independent nucleus: sort all probabilities, keep the smallest prefix reaching 0.9.
    std::vector<std::pair<double, int32_t>> probs;
    double z = 0;
    float mx = *std::max_element(l.begin(), l.end());
    for (int32_t i = 0; i < 3000; ++i) z += std::exp(static_cast<double>(l[i] - mx));
    for (int32_t i = 0; i < 3000; ++i) probs.emplace_back(std::exp(static_cast<double>(l[i] - mx)) / z, i);
    std::sort(probs.begin(), probs.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    std::set<int32_t> nucleus;
    double cum = 0;
    for (auto& [p, i] : probs) {
      nucleus.insert(i);
      cum += p;
      if (cum >= 0.9) break;
    }
    SamplingParams p;
    p.top_p = 0.9f;
    std::set<int32_t> seen;
    for (int32_t t : draws(l, p, 21, 3000)) seen.insert(t);
    INFO("spread " << spread << " nucleus " << nucleus.size());
    for (int32_t t : seen) CHECK(nucleus.count(t) == 1);
    if (nucleus.size() < 50) CHECK(seen.size() >= nucleus.size() / 2);
  }
}

TEST_CASE("logit_bias: -100 bans the argmax, +100 forces a token, out-of-range ids are ignored", "[engine][sampler]") {
  SamplingParams p;
  p.temperature = 0;
  SamplerState st(1);
  auto l = row({0.5f, 3.0f, 1.0f, 2.5f});
  p.logit_bias = {{1, -100.0f}, {99, 50.0f}};
  CHECK(sample(l, p, st).token == 3);
  l = row({0.5f, 3.0f, 1.0f, 2.5f});
  p.logit_bias = {{0, 100.0f}};
  CHECK(sample(l, p, st).token == 0);
  // With sampling too: a banned token never comes up in 2,000 draws, though it is the likeliest.
  SamplingParams t;
  t.temperature = 1.0f;
  t.logit_bias = {{1, -100.0f}};
  const auto got = draws(row({0.5f, 3.0f, 1.0f, 2.5f}), t, 7, 2000);
  CHECK(std::count(got.begin(), got.end(), 1) == 0);
  CHECK(std::count(got.begin(), got.end(), 3) > 0);
}

TEST_CASE("min_p keeps only tokens at least min_p as likely as the best (after temperature)", "[engine][sampler]") {
  // Probabilities ∝ e^l: relative to the best (l = 2), l = 1 is 0.37, l = 0 is 0.14, l = -1 is 0.05.
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.2f;
  const auto got = draws(row({2.0f, 1.0f, 0.0f, -1.0f}), p, 3, 4000);
  const std::set<int32_t> seen(got.begin(), got.end());
  CHECK(seen == std::set<int32_t>{0, 1});
  // Not vacuous: without min_p the others come up.
  p.min_p = 0.0f;
  const auto all = draws(row({2.0f, 1.0f, 0.0f, -1.0f}), p, 3, 4000);
  CHECK(std::set<int32_t>(all.begin(), all.end()).size() == 4);
  // A higher temperature flattens the ratios: at T = 2, l = 0 is e^-1 = 0.37 of the best
  // (kept at min_p 0.3), l = -1 is e^-1.5 = 0.22 (dropped).
  p.min_p = 0.3f;
  p.temperature = 2.0f;
  const auto warm = draws(row({2.0f, 1.0f, 0.0f, -1.0f}), p, 3, 4000);
  CHECK(std::set<int32_t>(warm.begin(), warm.end()) == std::set<int32_t>{0, 1, 2});
}

TEST_CASE("repetition_penalty divides positive and multiplies negative logits of seen tokens", "[engine][sampler]") {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  SamplerState st(1);
  st.prompt_tokens = {0};  // seen in the prompt
  // Token 0: 3.0 → 1.5; token 1 (unseen): 2.0 stays, so 1 wins.
  auto l = row({3.0f, 2.0f, -1.0f});
  CHECK(sample(l, p, st).token == 1);
  CHECK(l[0] == 1.5f);
  // Generated token 1 is penalised next step too (2.0 → 1.0); 0 (1.5) wins now.
  l = row({3.0f, 2.0f, -1.0f});
  CHECK(sample(l, p, st).token == 0);
  CHECK(l[1] == 1.0f);
  // Negative logits are multiplied (pushed further down).
  SamplerState neg(1);
  neg.prompt_tokens = {2};
  l = row({-3.0f, -2.5f, -1.0f});
  CHECK(sample(l, p, neg).token == 2);  // -1 → -2: still the best here
  CHECK(l[2] == -2.0f);
}

TEST_CASE("min_tokens holds back the suppressed ids until enough tokens are generated", "[engine][sampler]") {
  SamplingParams p;
  p.temperature = 0;
  p.min_tokens = 2;
  p.min_tokens_suppressed = {1};
  SamplerState st(1);
  std::vector<int32_t> out;
  for (int i = 0; i < 3; ++i) {
    auto l = row({0.0f, 5.0f, 1.0f});
    out.push_back(sample(l, p, st).token);
  }
  CHECK(out == std::vector<int32_t>{2, 2, 1});
}

TEST_CASE("needs_host_logits: the device sampler handles temperature, top-k and top-p only", "[engine][sampler]") {
  SamplingParams p;
  CHECK_FALSE(p.needs_host_logits(0));
  p.min_tokens = 3;
  CHECK(p.needs_host_logits(2));
  CHECK_FALSE(p.needs_host_logits(3));
  SamplingParams b;
  b.logit_bias = {{4, 1.0f}};
  CHECK(b.needs_host_logits(10));
  SamplingParams m;
  m.min_p = 0.1f;
  CHECK(m.needs_host_logits(0));
  SamplingParams r;
  r.repetition_penalty = 1.1f;
  CHECK(r.needs_host_logits(0));
}
