// sample_tokens against a host reference written here from the header's definition:
// greedy = argmax with the lowest id on ties; otherwise weights exp((l − max)/T), the
// top_k best tokens (best = larger logit, then lower id), then the smallest best-first
// prefix whose mass reaches top_p of theirs, and the draw u = sample_uniform(seed, step)
// (kernels/counter_rng.cuh, the same Philox the device runs) picks the first kept id,
// in id order, whose prefix mass exceeds u·Z.
//
// Error bound: the device sums fixed-point masses (2^-40 of the top token's weight,
// truncated) of expf, the reference doubles of std::exp: the cumulative masses differ
// by < 1e-6 relative. A token is accepted when the reference gives it for some top_p
// and u within 2e-6 of the true ones — the decision is exact everywhere else.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "kernels/counter_rng.cuh"
#include "kernels/gpu_test_support.hpp"
#include "kernels/sampling.cuh"

namespace wk = warden::kernels;
using namespace warden::kernels::test;

namespace {

float clean(float f) { return std::isnan(f) ? -std::numeric_limits<float>::infinity() : f; }

bool better(const std::vector<float>& l, int32_t a, int32_t b) {
  const float la = clean(l[size_t(a)]), lb = clean(l[size_t(b)]);
  return la > lb || (la == lb && a < b);
}

// The reference for one row; sorting is done once, then the draw is repeated for
// perturbed top_p and u.
class Reference {
 public:
  Reference(const std::vector<float>& row, const wk::SamplingRow& p) : row_(row), p_(p) {
    const int32_t vocab = int32_t(row.size());
    order_.resize(size_t(vocab));
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return better(row_, a, b); });
    const float mx = clean(row[size_t(order_[0])]);
    const float inv_t = 1.0f / p.temperature;
    w_.resize(size_t(vocab));
    for (int32_t i = 0; i < vocab; ++i) {
      const float l = clean(row[size_t(i)]);
      w_[size_t(i)] = l == mx ? 1.0 : std::exp(double((l - mx) * inv_t));
    }
  }

  bool greedy() const { return !(p_.temperature > 1e-5f) || p_.top_k == 1; }
  int32_t argmax() const { return order_[0]; }

  int32_t pick(double top_p, double u) const {
    if (greedy()) return argmax();
    const int32_t vocab = int32_t(order_.size());
    int32_t n = (p_.top_k > 0 && p_.top_k < vocab) ? p_.top_k : vocab;
    if (p_.top_p > 0.0f && p_.top_p < 1.0f) {
      double total = 0;
      for (int32_t j = 0; j < n; ++j) total += w_[size_t(order_[size_t(j)])];
      double cum = 0;
      for (int32_t j = 0; j < n; ++j) {
        cum += w_[size_t(order_[size_t(j)])];
        if (cum >= top_p * total) {
          n = j + 1;
          break;
        }
      }
    }
    std::vector<bool> kept(size_t(vocab), false);
    double z = 0;
    for (int32_t j = 0; j < n; ++j) {
      kept[size_t(order_[size_t(j)])] = true;
      z += w_[size_t(order_[size_t(j)])];
    }
    const double target = std::clamp(u, 0.0, 1.0) * z;
    double cum = 0;
    int32_t last = -1;
    for (int32_t i = 0; i < vocab; ++i) {
      if (!kept[size_t(i)] || w_[size_t(i)] == 0.0) continue;
      cum += w_[size_t(i)];
      last = i;
      if (cum > target) return i;
    }
    return last;
  }

  // Every token the reference gives for top_p and u perturbed by up to 2e-6.
  std::set<int32_t> acceptable() const {
    const double u = wk::sample_uniform(p_.seed, p_.step);
    std::set<int32_t> ok;
    for (const double dp : {-2e-6, 0.0, 2e-6})
      for (const double du : {-2e-6, 0.0, 2e-6}) ok.insert(pick(double(p_.top_p) * (1.0 + dp), u + du));
    return ok;
  }

 private:
  const std::vector<float>& row_;
  wk::SamplingRow p_;
  std::vector<int32_t> order_;
  std::vector<double> w_;
};

std::vector<int32_t> run(const std::vector<float>& logits, int32_t vocab, const std::vector<wk::SamplingRow>& params) {
  const int32_t rows = int32_t(params.size());
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<wk::SamplingRow> dparams(params);
  DeviceBuffer<int32_t> dout(static_cast<size_t>(rows));
  dout.fill_bytes(0xff);
  const size_t ws = wk::sample_workspace_bytes(rows, vocab);
  DeviceBuffer<unsigned char> dws(ws);
  wk::sample_tokens(dlogits.get(), rows, vocab, dparams.get(), dout.get(), dws.get(), ws, nullptr);
  sync_and_check();
  return dout.download();
}

wk::SamplingRow row_params(float t, float top_p, int32_t top_k, uint64_t seed, uint64_t step) {
  wk::SamplingRow p;
  p.temperature = t;
  p.top_p = top_p;
  p.top_k = top_k;
  p.seed = seed;
  p.step = step;
  return p;
}

// Logits like a model's: a broad body plus a few strong candidates.
std::vector<float> model_like_row(int32_t vocab, uint64_t seed) {
  std::vector<float> row = random_floats(size_t(vocab), seed, -6.0f, 6.0f, false);
  TestRng rng(seed ^ 0x5555);
  for (int i = 0; i < 20; ++i) row[size_t(rng.below(vocab))] = rng.uniform(8.0f, 14.0f);
  return row;
}

void check_rows(const std::vector<float>& logits, int32_t vocab, const std::vector<wk::SamplingRow>& params,
                const std::vector<int32_t>& got) {
  for (size_t r = 0; r < params.size(); ++r) {
    const std::vector<float> row(logits.begin() + int64_t(r) * vocab, logits.begin() + int64_t(r + 1) * vocab);
    const Reference ref(row, params[r]);
    const std::set<int32_t> ok = ref.acceptable();
    INFO("row " << r << " T " << params[r].temperature << " top_p " << params[r].top_p << " top_k "
                << params[r].top_k << " step " << params[r].step << " got " << got[r] << " expected "
                << *ok.begin());
    CHECK(ok.count(got[r]) == 1u);
  }
}

}  // namespace

TEST_CASE("greedy: argmax, lowest id on ties, NaN ignored", "[gpu][sampling]") {
  const int32_t vocab = 1001;
  std::vector<float> logits(size_t(vocab) * 5, -1.0f);
  auto at = [&](int r, int i) -> float& { return logits[size_t(r) * vocab + i]; };
  at(0, 9) = 3.0f;
  at(0, 5) = 3.0f;  // tie: 5 wins
  at(1, 1000) = 0.5f;  // the last id
  at(2, 0) = std::numeric_limits<float>::quiet_NaN();
  at(2, 700) = 2.0f;
  for (int i = 0; i < vocab; ++i) at(3, i) = 7.0f;  // all equal: id 0
  at(4, 17) = std::numeric_limits<float>::infinity();
  at(4, 18) = std::numeric_limits<float>::infinity();
  std::vector<wk::SamplingRow> params = {row_params(0.0f, 1.0f, 0, 1, 0), row_params(1e-6f, 0.9f, 40, 2, 3),
                                         row_params(0.0f, 1.0f, 0, 3, 0), row_params(0.0f, 1.0f, 0, 4, 9),
                                         row_params(0.0f, 1.0f, 0, 5, 0)};
  CHECK(run(logits, vocab, params) == std::vector<int32_t>{5, 1000, 700, 0, 17});
  // top_k = 1 is greedy at any temperature.
  for (auto& p : params) {
    p.temperature = 1.3f;
    p.top_k = 1;
  }
  CHECK(run(logits, vocab, params) == std::vector<int32_t>{5, 1000, 700, 0, 17});
}

TEST_CASE("sampling matches the reference over a Qwen-sized vocabulary, mixed per-row params", "[gpu][sampling]") {
  const int32_t vocab = 151936;
  const std::vector<wk::SamplingRow> kinds = {
      row_params(1.0f, 1.0f, 0, 11, 0),      row_params(0.7f, 1.0f, 50, 12, 0),
      row_params(1.0f, 0.9f, 0, 13, 0),      row_params(0.8f, 0.95f, 1000, 14, 0),
      row_params(1.5f, 1.0f, vocab - 1, 15, 0), row_params(1.0f, 0.999f, 0, 16, 0),
      row_params(0.3f, 0.5f, 0, 17, 0),      row_params(2.0f, 0.1f, 3, 18, 0),
      row_params(0.0f, 1.0f, 0, 19, 0),      row_params(4.0f, 0.98f, 20000, 20, 0),
      row_params(1.0f, 1.0f, 2, 21, 0),      row_params(0.6f, 0.8f, 0, 22, 0)};
  std::vector<wk::SamplingRow> params;
  std::vector<float> logits;
  for (uint64_t step = 0; step < 4; ++step) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      wk::SamplingRow p = kinds[k];
      p.step = step * 1000 + k;
      params.push_back(p);
      const std::vector<float> row = model_like_row(vocab, 1000 + params.size());
      logits.insert(logits.end(), row.begin(), row.end());
    }
  }
  check_rows(logits, vocab, params, run(logits, vocab, params));
}

TEST_CASE("sampling over awkward vocabularies and many steps", "[gpu][sampling]") {
  for (const int32_t vocab : {1, 2, 7, 511, 513, 1000, 32001}) {
    DYNAMIC_SECTION("vocab " << vocab) {
      std::vector<wk::SamplingRow> params;
      std::vector<float> logits;
      for (int32_t r = 0; r < 96; ++r) {
        const float t = 0.2f + 0.05f * float(r % 30);
        const float top_p = (r % 3 == 0) ? 1.0f : 0.3f + 0.02f * float(r % 35);
        const int32_t top_k = (r % 4 == 0) ? 0 : 1 + r % 9;
        params.push_back(row_params(t, top_p, top_k, 77 + uint64_t(r % 5), uint64_t(r)));
        const std::vector<float> row = random_floats(size_t(vocab), uint64_t(vocab) * 131 + r, -3.0f, 3.0f, false);
        logits.insert(logits.end(), row.begin(), row.end());
      }
      check_rows(logits, vocab, params, run(logits, vocab, params));
    }
  }
}

TEST_CASE("top-k ties at the cut keep the lowest ids; top-p ties likewise", "[gpu][sampling]") {
  // Logits on 5 levels: most tokens tie with many others.
  const int32_t vocab = 997, rows = 2000;
  std::vector<float> row(static_cast<size_t>(vocab));
  TestRng rng(3);
  for (auto& v : row) v = float(rng.below(5));
  std::vector<int32_t> best;  // ids at the top level, ascending
  for (int32_t i = 0; i < vocab; ++i)
    if (row[size_t(i)] == 4.0f) best.push_back(i);
  REQUIRE(best.size() > 7u);

  std::vector<float> logits;
  std::vector<wk::SamplingRow> params;
  for (int32_t r = 0; r < rows; ++r) {
    logits.insert(logits.end(), row.begin(), row.end());
    // Even rows: top_k = 7 (7 of the tied best). Odd rows: top_p that needs exactly 5
    // of the tied best tokens (each weighs the same; 4.5 of them reach the mass).
    if (r % 2 == 0) {
      params.push_back(row_params(1.0f, 1.0f, 7, 5, uint64_t(r)));
    } else {
      double z = 0;
      for (float v : row) z += std::exp(double(v) - 4.0);
      params.push_back(row_params(1.0f, float(4.5 / z), 0, 6, uint64_t(r)));
    }
  }
  const std::vector<int32_t> got = run(logits, vocab, params);
  check_rows(logits, vocab, params, got);
  std::set<int32_t> seen_k, seen_p;
  for (int32_t r = 0; r < rows; ++r) (r % 2 == 0 ? seen_k : seen_p).insert(got[size_t(r)]);
  CHECK(seen_k == std::set<int32_t>(best.begin(), best.begin() + 7));
  CHECK(seen_p == std::set<int32_t>(best.begin(), best.begin() + 5));
}

TEST_CASE("sampled frequencies follow the distribution (temperature, top-p with a tie)", "[gpu][sampling]") {
  const std::vector<double> probs = {0.1, 0.2, 0.3, 0.15, 0.05, 0.2};
  const int32_t vocab = int32_t(probs.size()), rows = 20000;
  std::vector<float> row;
  for (double p : probs) row.push_back(float(std::log(p)));
  for (const float top_p : {1.0f, 0.6f}) {
    DYNAMIC_SECTION("top_p " << top_p) {
      std::vector<float> logits;
      std::vector<wk::SamplingRow> params;
      for (int32_t r = 0; r < rows; ++r) {
        logits.insert(logits.end(), row.begin(), row.end());
        params.push_back(row_params(1.0f, top_p, 0, 2024, uint64_t(r)));
      }
      const std::vector<int32_t> got = run(logits, vocab, params);
      std::vector<int> counts(size_t(vocab), 0);
      for (int32_t t : got) {
        REQUIRE(t >= 0);
        REQUIRE(t < vocab);
        ++counts[size_t(t)];
      }
      // top_p 0.6: 0.3 (id 2), then the tied 0.2s (ids 1 and 5) reach 0.7 ≥ 0.6.
      std::vector<double> want = probs;
      if (top_p < 1.0f) want = {0.0, 0.2 / 0.7, 0.3 / 0.7, 0.0, 0.0, 0.2 / 0.7};
      for (int32_t i = 0; i < vocab; ++i) {
        // sd ≤ sqrt(0.25 / 20000) = 0.0035: 0.015 is over 4 sd (and the draws are fixed).
        INFO("token " << i);
        CHECK(std::abs(counts[size_t(i)] / double(rows) - want[size_t(i)]) < 0.015);
        if (want[size_t(i)] == 0.0) CHECK(counts[size_t(i)] == 0);
      }
      check_rows(logits, vocab, params, got);
    }
  }
}

TEST_CASE("a row's token depends only on its logits, seed and step, not on the batch", "[gpu][sampling]") {
  const int32_t vocab = 50000;
  const std::vector<float> a = model_like_row(vocab, 1), b = model_like_row(vocab, 2), c = model_like_row(vocab, 3);
  const wk::SamplingRow pa = row_params(0.9f, 0.95f, 200, 123456789, 17);
  const wk::SamplingRow pb = row_params(1.0f, 1.0f, 0, 5, 3), pc = row_params(0.0f, 1.0f, 0, 6, 4);
  const int32_t alone = run(a, vocab, {pa})[0];
  std::vector<float> batch;
  for (const auto* r : {&b, &a, &c}) batch.insert(batch.end(), r->begin(), r->end());
  CHECK(run(batch, vocab, {pb, pa, pc})[1] == alone);
  std::vector<float> batch2 = a;
  batch2.insert(batch2.end(), a.begin(), a.end());
  const std::vector<int32_t> twice = run(batch2, vocab, {pa, pa});
  CHECK(twice[0] == alone);
  CHECK(twice[1] == alone);
  // Another step draws a fresh number: over 40 steps the row does not always give one token.
  std::vector<wk::SamplingRow> steps;
  std::vector<float> rows40;
  for (uint64_t s = 0; s < 40; ++s) {
    wk::SamplingRow p = row_params(1.0f, 1.0f, 0, 123456789, s);
    steps.push_back(p);
    rows40.insert(rows40.end(), a.begin(), a.end());
  }
  const std::vector<int32_t> by_step = run(rows40, vocab, steps);
  CHECK(std::set<int32_t>(by_step.begin(), by_step.end()).size() > 1u);
}
