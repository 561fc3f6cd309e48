// Token sampling: logit_bias → min_tokens → penalties → greedy or temperature → min_p →
// top-k → top-p → one draw.
#include "warden/engine/sampler/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace warden::engine::sampler {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

int32_t argmax(std::span<const float> x) {
  int32_t best = 0;
  for (int32_t i = 1; i < static_cast<int32_t>(x.size()); ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

float log_sum_exp(std::span<const float> x) {
  float m = -std::numeric_limits<float>::infinity();
  for (float v : x) m = std::max(m, v);
  if (!std::isfinite(m)) return m;
  double sum = 0;
  for (float v : x) sum += std::exp(static_cast<double>(v - m));
  return m + static_cast<float>(std::log(sum));
}

SampleResult sample(std::span<float> logits, const SamplingParams& params, SamplerState& state) {
  SampleResult out;
  const int32_t vocab = static_cast<int32_t>(logits.size());

  // Log-probabilities are reported for the model's own distribution (raw logits), as
  // vLLM does by default; keep a copy before penalties/temperature change the row.
  std::vector<float> raw;
  float raw_lse = 0.0f;
  if (params.logprobs >= 0) {
    raw.assign(logits.begin(), logits.end());
    raw_lse = log_sum_exp(raw);
    int32_t n = std::min(params.logprobs, vocab);
    if (n > 0) {
      std::vector<int32_t> idx(vocab);
      std::iota(idx.begin(), idx.end(), 0);
      std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int32_t a, int32_t b) {
        return raw[a] > raw[b] || (raw[a] == raw[b] && a < b);
      });
      for (int32_t i = 0; i < n; ++i) out.top.push_back({idx[i], raw[idx[i]] - raw_lse});
    }
  }

  for (const auto& [tok, bias] : params.logit_bias)
    if (tok >= 0 && tok < vocab) logits[tok] += bias;
  if (state.generated < params.min_tokens)
    for (int32_t tok : params.min_tokens_suppressed)
      if (tok >= 0 && tok < vocab) logits[tok] = -std::numeric_limits<float>::infinity();
  if (params.repetition_penalty != 1.0f) {
    auto penalise = [&](int32_t tok) {
      if (tok < 0 || tok >= vocab) return;
      float& l = logits[tok];
      l = l > 0.0f ? l / params.repetition_penalty : l * params.repetition_penalty;
    };
    // Each distinct token once: prompt ids not generated, then every generated id.
    for (int32_t tok : state.prompt_tokens)
      if (!state.output_counts.count(tok)) penalise(tok);
    for (const auto& [tok, count] : state.output_counts) penalise(tok);
  }
  if (params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f) {
    for (const auto& [tok, count] : state.output_counts) {
      if (tok < 0 || tok >= vocab) continue;
      logits[tok] -= params.presence_penalty + params.frequency_penalty * static_cast<float>(count);
    }
  }
  if (params.min_p > 0.0f && params.temperature > 1e-5f) {
    // p_i / p_max = exp((l_i - l_max) / T): drop what falls under min_p (the best token stays).
    const float mx = *std::max_element(logits.begin(), logits.end());
    const float cut = mx + params.temperature * std::log(params.min_p);
    for (float& l : logits)
      if (l < cut) l = -std::numeric_limits<float>::infinity();
  }

  if (params.temperature <= 1e-5f) {
    out.token = argmax(logits);
  } else {
    const float inv_t = 1.0f / params.temperature;
    const bool use_k = params.top_k > 0 && params.top_k < vocab;
    const bool use_p = params.top_p > 0.0f && params.top_p < 1.0f;
    if (!use_k && !use_p) {
      // Plain temperature sampling over the whole vocabulary, in id order.
      float m = *std::max_element(logits.begin(), logits.end());
      std::vector<double> w(vocab);
      double total = 0;
      for (int32_t i = 0; i < vocab; ++i) total += (w[i] = std::exp(static_cast<double>((logits[i] - m) * inv_t)));
      double u = state.rng.uniform() * total;
      int32_t pick = vocab - 1;
      for (int32_t i = 0; i < vocab; ++i) {
        if (u < w[i]) {
          pick = i;
          break;
        }
        u -= w[i];
      }
      // Never pick a zero-probability token through rounding at the end of the scan.
      while (pick > 0 && w[pick] == 0.0) --pick;
      out.token = pick;
    } else {
      // Candidates sorted by logit (descending, ties by id) so the cut-offs are exact.
      std::vector<int32_t> idx(vocab);
      std::iota(idx.begin(), idx.end(), 0);
      auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
      int32_t n = use_k ? params.top_k : vocab;
      if (use_k) {
        std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), better);
      } else {
        // Top-p alone: real distributions are peaked, so the nucleus almost always lies in
        // the best few hundred tokens; sort only those when their mass already reaches
        // top_p (checked exactly against the full softmax sum), else sort everything.
        const int32_t head = std::min<int32_t>(vocab, 512);
        std::partial_sort(idx.begin(), idx.begin() + head, idx.end(), better);
        const float mx = logits[idx[0]];
        double all = 0, top = 0;
        for (int32_t i = 0; i < vocab; ++i) all += std::exp(static_cast<double>((logits[i] - mx) * inv_t));
        for (int32_t i = 0; i < head; ++i) top += std::exp(static_cast<double>((logits[idx[i]] - mx) * inv_t));
        if (top / all >= params.top_p) {
          n = head;  // the cut below happens inside the sorted head; mass is renormalised after
        } else {
          std::sort(idx.begin(), idx.end(), better);
        }
      }
      idx.resize(n);
      std::vector<double> w(n);
      const float m = logits[idx[0]];
      double total = 0;
      for (int32_t i = 0; i < n; ++i) total += (w[i] = std::exp(static_cast<double>((logits[idx[i]] - m) * inv_t)));
      if (use_p) {
        // Smallest prefix whose probability mass reaches top_p (at least one token). The
        // mass is relative to every candidate that survived top-k (the whole vocabulary
        // when top-k is off, even if only a sorted head is held in `w`).
        double denom = total;
        if (!use_k && n < vocab) {
          denom = 0;
          for (int32_t i = 0; i < vocab; ++i) denom += std::exp(static_cast<double>((logits[i] - m) * inv_t));
        }
        double cum = 0;
        int32_t keep = n;
        for (int32_t i = 0; i < n; ++i) {
          cum += w[i] / denom;
          if (cum >= params.top_p) {
            keep = i + 1;
            break;
          }
        }
        n = keep;
        w.resize(n);
        total = std::accumulate(w.begin(), w.end(), 0.0);
      }
      double u = state.rng.uniform() * total;
      int32_t pick = n - 1;
      for (int32_t i = 0; i < n; ++i) {
        if (u < w[i]) {
          pick = i;
          break;
        }
        u -= w[i];
      }
      out.token = idx[pick];
    }
  }

  if (params.logprobs >= 0) out.logprob = raw[out.token] - raw_lse;
  state.observe(out.token);
  return out;
}

}  // namespace warden::engine::sampler
