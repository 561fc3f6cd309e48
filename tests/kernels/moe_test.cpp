// [gpu] MoE kernels against host references:
//   moe_route          vs the CPU backend's route_token (the engine's own rules), every
//                      scoring / top-k method / normalisation variant the configs produce
//   moe_align          vs a host counting loop (expert by expert, assignments in order)
//   moe_gather_rows    vs host row copies
//   moe_combine        vs a host fp32 weighted sum
//   moe_grouped_gemm   vs a host GEMM in double on the same bf16 inputs
// over awkward shapes: experts with no rows, one expert taking every row, 1 and 257
// tokens, n and k off the tile sizes, unaligned operands, ids without an expert.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "gpu_test_support.hpp"
#include "kernels/moe_grouped_gemm.cuh"
#include "kernels/moe_permute.cuh"
#include "kernels/moe_route.cuh"
#include "warden/engine/backend/cpu/ffn.hpp"
#include "warden/engine/model/model_config.hpp"

namespace {

using namespace warden::kernels;
using namespace warden::kernels::test;
using warden::engine::ModelFamily;
using warden::engine::MoeConfig;

// ---- routing -----------------------------------------------------------------------

// What the CUDA backend passes for a model's MoeConfig: Qwen2-MoE renormalises even a
// single choice and never scales (CPU route_token's Qwen2Moe branch).
MoeRouting routing_of(const MoeConfig& c, ModelFamily family) {
  MoeRouting r;
  r.num_experts = c.num_experts;
  r.top_k = c.top_k;
  r.scoring = c.scoring == "sigmoid" ? MoeScoring::Sigmoid : MoeScoring::Softmax;
  r.method = c.topk_method == "noaux_tc"               ? MoeTopkMethod::NoauxTc
             : c.topk_method == "group_limited_greedy" ? MoeTopkMethod::GroupLimitedGreedy
                                                       : MoeTopkMethod::Greedy;
  r.n_group = c.n_group;
  r.topk_group = c.topk_group;
  r.norm_topk_prob = c.norm_topk_prob;
  const bool qwen = family == ModelFamily::Qwen2Moe;
  r.routed_scaling_factor = qwen ? 1.0f : float(c.routed_scaling_factor);
  r.scale_when_normalized = c.scale_when_normalized;
  r.normalize_top1 = qwen;
  return r;
}

// Logits on a 1/64 grid in [-4, 4]. Distinct logits then give scores at least ~1.5 %
// apart (softmax) or 2.8e-4 apart (sigmoid) — far beyond what expf and summation order
// change between host and device — while equal logits give bit-equal scores on both
// sides: exact ties, which both must break towards the lower expert id.
std::vector<float> grid_logits(size_t n, uint64_t seed) {
  TestRng rng(seed);
  std::vector<float> v(n);
  for (float& f : v) f = float(rng.below(513) - 256) / 64.0f;
  return v;
}

// noaux_tc correction bias: 4 × (a random rank of the expert's group) + 0 or 1. With
// sigmoid scores in (0.018, 0.982) the biased choices of one group are ordered by the
// +0/1 first and the score second, and groups' top-2 sums lie 4 apart: every decision has
// a margin far above rounding, yet the bias reorders experts and groups.
std::vector<float> designed_bias(int32_t num_experts, int32_t n_group, uint64_t seed) {
  TestRng rng(seed);
  std::vector<int32_t> group_rank(static_cast<size_t>(n_group));
  std::iota(group_rank.begin(), group_rank.end(), 0);
  for (int32_t i = n_group - 1; i > 0; --i) std::swap(group_rank[size_t(i)], group_rank[size_t(rng.below(i + 1))]);
  const int32_t per = num_experts / n_group;
  std::vector<float> bias(static_cast<size_t>(num_experts));
  for (int32_t e = 0; e < num_experts; ++e) bias[size_t(e)] = 4.0f * float(group_rank[size_t(e / per)]) + float(rng.below(2));
  return bias;
}

struct RouteCase {
  std::string name;
  ModelFamily family;
  MoeConfig config;
  bool with_bias = false;
};

MoeConfig moe(int32_t experts, int32_t top_k, const std::string& scoring, const std::string& method, int32_t n_group,
              int32_t topk_group, bool norm, double factor, bool scale_when_normalized) {
  MoeConfig c;
  c.num_experts = experts;
  c.top_k = top_k;
  c.scoring = scoring;
  c.topk_method = method;
  c.n_group = n_group;
  c.topk_group = topk_group;
  c.norm_topk_prob = norm;
  c.routed_scaling_factor = factor;
  c.scale_when_normalized = scale_when_normalized;
  return c;
}

void check_route(const RouteCase& rc, int32_t n_tokens, uint64_t seed) {
  const MoeConfig& c = rc.config;
  const int32_t E = c.num_experts, K = c.top_k;
  INFO(rc.name << ", " << n_tokens << " tokens");
  const std::vector<float> logits = grid_logits(size_t(n_tokens) * size_t(E), seed);
  const std::vector<float> bias = rc.with_bias ? designed_bias(E, c.n_group, seed + 1) : std::vector<float>{};

  std::vector<int32_t> want_ids(size_t(n_tokens) * size_t(K));
  std::vector<float> want_w(want_ids.size());
  for (int32_t t = 0; t < n_tokens; ++t)
    warden::engine::cpu::route_token(c, rc.family, logits.data() + int64_t(t) * E, rc.with_bias ? bias.data() : nullptr,
                                     want_ids.data() + int64_t(t) * K, want_w.data() + int64_t(t) * K);

  DeviceBuffer<float> d_logits(logits);
  DeviceBuffer<float> d_bias(bias);
  DeviceBuffer<int32_t> d_ids(want_ids.size());
  DeviceBuffer<float> d_w(want_w.size());
  d_ids.fill_bytes(0x7f);
  d_w.fill_bytes(0xff);
  moe_route(d_logits.get(), rc.with_bias ? d_bias.get() : nullptr, n_tokens, routing_of(c, rc.family), d_ids.get(),
            d_w.get(), nullptr);
  sync_and_check();
  const std::vector<int32_t> got_ids = d_ids.download();
  const std::vector<float> got_w = d_w.download();

  int32_t id_mismatches = 0;
  float worst = 0.0f;
  for (size_t i = 0; i < want_ids.size(); ++i) {
    if (got_ids[i] != want_ids[i]) {
      if (id_mismatches++ < 5) UNSCOPED_INFO("slot " << i << ": expert " << got_ids[i] << ", want " << want_ids[i]);
      continue;
    }
    // Scores differ by a few ulp (expf, summation order): weights to 1e-5 relative.
    const float err = std::fabs(got_w[i] - want_w[i]) / (2e-7f + 1e-5f * std::fabs(want_w[i]));
    if (!(err <= worst)) worst = err;
  }
  CHECK(id_mismatches == 0);
  CHECK(worst <= 1.0f);
}

TEST_CASE("moe_route picks the CPU backend's experts and weights", "[gpu][moe]") {
  const ModelFamily Q = ModelFamily::Qwen2Moe, D = ModelFamily::DeepseekMoe;
  const std::vector<RouteCase> cases = {
      {"qwen1.5-moe: softmax greedy 60 experts top-4", Q, moe(60, 4, "softmax", "greedy", 1, 1, false, 1.0, false)},
      {"qwen2-moe: norm_topk_prob top-2", Q, moe(8, 2, "softmax", "greedy", 1, 1, true, 1.0, false)},
      {"qwen2-moe: norm_topk_prob top-1 (weight 1)", Q, moe(8, 1, "softmax", "greedy", 1, 1, true, 1.0, false)},
      {"deepseek-v2-lite: softmax greedy 64 top-6", D, moe(64, 6, "softmax", "greedy", 1, 1, false, 1.0, false)},
      {"deepseek-v2: group_limited_greedy 160/8 groups top-3 groups, ×16", D,
       moe(160, 6, "softmax", "group_limited_greedy", 8, 3, false, 16.0, false)},
      {"group_limited_greedy normalised (V2: not scaled)", D,
       moe(32, 4, "softmax", "group_limited_greedy", 4, 2, true, 2.0, false)},
      {"deepseek-v3: noaux_tc sigmoid 256/8 groups top-4 groups top-8, normalised then ×2.5", D,
       moe(256, 8, "sigmoid", "noaux_tc", 8, 4, true, 2.5, true), true},
      {"noaux_tc 40 experts in 5 groups, not normalised, ×1.5", D,
       moe(40, 3, "sigmoid", "noaux_tc", 5, 2, false, 1.5, true), true},
      {"sigmoid greedy 256 top-8 normalised, V2 rule (no scale)", D,
       moe(256, 8, "sigmoid", "greedy", 1, 1, true, 2.0, false)},
      {"deepseek top-1 with norm_topk_prob: scaled, not normalised", D,
       moe(16, 1, "softmax", "greedy", 1, 1, true, 3.0, false)},
  };
  uint64_t seed = 100;
  for (const auto& rc : cases)
    for (int32_t n_tokens : {1, 257}) check_route(rc, n_tokens, seed++);
}

TEST_CASE("moe_route: equal logits go to the lower expert id", "[gpu][moe]") {
  // Every logit equal: the top-k must be experts 0..k-1 with equal weights.
  const int32_t E = 256, K = 8, T = 3;
  std::vector<float> logits(size_t(E) * T, 0.5f);
  DeviceBuffer<float> d_logits(logits);
  DeviceBuffer<int32_t> d_ids(size_t(K) * T);
  DeviceBuffer<float> d_w(size_t(K) * T);
  MoeRouting r;
  r.num_experts = E;
  r.top_k = K;
  r.norm_topk_prob = true;
  r.normalize_top1 = true;
  moe_route(d_logits.get(), nullptr, T, r, d_ids.get(), d_w.get(), nullptr);
  sync_and_check();
  const auto ids = d_ids.download();
  const auto w = d_w.download();
  for (int32_t t = 0; t < T; ++t)
    for (int32_t j = 0; j < K; ++j) {
      CHECK(ids[size_t(t * K + j)] == j);
      CHECK(w[size_t(t * K + j)] == Approx(1.0f / K).epsilon(1e-6));
    }
}

// ---- align ------------------------------------------------------------------------

struct AlignRef {
  std::vector<int32_t> offsets, perm_to_assignment, assignment_to_perm;
};

// Expert by expert, assignments in order; ids outside [0, E) get no row (-1 both ways)
// and the rows past offsets[E] are -1.
AlignRef align_reference(const std::vector<int32_t>& ids, int32_t num_experts) {
  AlignRef r;
  const size_t n = ids.size();
  r.offsets.resize(size_t(num_experts) + 1);
  r.assignment_to_perm.assign(n, -1);
  for (int32_t e = 0; e < num_experts; ++e) {
    r.offsets[size_t(e)] = int32_t(r.perm_to_assignment.size());
    for (size_t a = 0; a < n; ++a)
      if (ids[a] == e) {
        r.assignment_to_perm[a] = int32_t(r.perm_to_assignment.size());
        r.perm_to_assignment.push_back(int32_t(a));
      }
  }
  r.offsets[size_t(num_experts)] = int32_t(r.perm_to_assignment.size());
  r.perm_to_assignment.resize(n, -1);
  return r;
}

// top_k distinct experts per token, as a router picks them; `hot` experts take most.
std::vector<int32_t> router_like_ids(int32_t n_tokens, int32_t top_k, int32_t num_experts, uint64_t seed,
                                     int32_t hot = 0) {
  TestRng rng(seed);
  std::vector<int32_t> ids(size_t(n_tokens) * size_t(top_k));
  for (int32_t t = 0; t < n_tokens; ++t)
    for (int32_t j = 0; j < top_k; ++j) {
      int32_t e;
      bool fresh;
      do {
        e = (hot > 0 && rng.below(4) != 0) ? rng.below(hot) : rng.below(num_experts);
        fresh = true;
        for (int32_t i = 0; i < j; ++i) fresh = fresh && ids[size_t(t * top_k + i)] != e;
      } while (!fresh);
      ids[size_t(t * top_k + j)] = e;
    }
  return ids;
}

enum class Workspace { Reported, None };

void check_align(const std::vector<int32_t>& ids, int32_t n_tokens, int32_t top_k, int32_t num_experts,
                 Workspace ws) {
  INFO(n_tokens << " tokens × top-" << top_k << " over " << num_experts << " experts, workspace "
                << (ws == Workspace::Reported ? "as reported" : "none"));
  REQUIRE(ids.size() == size_t(n_tokens) * size_t(top_k));
  const AlignRef want = align_reference(ids, num_experts);
  DeviceBuffer<int32_t> d_ids(ids);
  DeviceBuffer<int32_t> d_offsets(size_t(num_experts) + 1);
  DeviceBuffer<int32_t> d_p2a(ids.size()), d_a2p(ids.size());
  d_offsets.fill_bytes(0x7f);
  d_p2a.fill_bytes(0x7f);
  d_a2p.fill_bytes(0x7f);
  // Exactly the reported size, so an overrun shows under compute-sanitizer.
  const size_t bytes = moe_align_workspace_bytes(n_tokens, top_k, num_experts);
  DeviceBuffer<unsigned char> d_ws(ws == Workspace::Reported ? bytes : 0);
  moe_align(d_ids.get(), n_tokens, top_k, num_experts, d_offsets.get(), d_p2a.get(), d_a2p.get(), d_ws.get(),
            d_ws.size(), nullptr);
  sync_and_check();
  CHECK(d_offsets.download() == want.offsets);
  CHECK(d_p2a.download() == want.perm_to_assignment);
  CHECK(d_a2p.download() == want.assignment_to_perm);
}

TEST_CASE("moe_align groups assignments by expert, stable in token order", "[gpu][moe]") {
  SECTION("one token") {
    check_align(router_like_ids(1, 8, 256, 1), 1, 8, 256, Workspace::Reported);
    check_align({3}, 1, 1, 4, Workspace::Reported);
  }
  SECTION("257 tokens, most experts empty or hot") {
    check_align(router_like_ids(257, 8, 256, 2, 12), 257, 8, 256, Workspace::Reported);
    check_align(router_like_ids(257, 2, 60, 3), 257, 2, 60, Workspace::Reported);
  }
  SECTION("one expert takes every row") {
    check_align(std::vector<int32_t>(300, 5), 300, 1, 8, Workspace::Reported);
    check_align(std::vector<int32_t>(100, 0), 50, 2, 1, Workspace::Reported);  // the same expert twice per token
  }
  SECTION("no tokens: every offset 0") { check_align({}, 0, 8, 16, Workspace::Reported); }
  SECTION("many assignments: multi-block path, and the one-block fallback without workspace") {
    const auto ids = router_like_ids(5000, 8, 64, 4, 7);
    check_align(ids, 5000, 8, 64, Workspace::Reported);
    check_align(ids, 5000, 8, 64, Workspace::None);
    const auto wide = router_like_ids(2100, 8, 256, 5);  // 16800 assignments, 257 columns
    check_align(wide, 2100, 8, 256, Workspace::Reported);
  }
  SECTION("ids without an expert get no row") {
    auto ids = router_like_ids(70, 4, 16, 6);
    for (size_t i = 0; i < ids.size(); i += 7) ids[i] = (i % 2) ? -1 : 16 + int32_t(i % 5);
    check_align(ids, 70, 4, 16, Workspace::Reported);
  }
}

// ---- gather / combine ---------------------------------------------------------------

// A random permutation of the n assignments onto rows, with every 9th row left without an
// assignment (as ids outside the experts leave them).
std::vector<int32_t> random_perm_to_assignment(size_t n, uint64_t seed) {
  TestRng rng(seed);
  std::vector<int32_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[size_t(rng.below(int32_t(i)))]);
  for (size_t r = 4; r < n; r += 9) p[r] = -1;
  return p;
}

TEST_CASE("moe_gather_rows copies each permuted row's token", "[gpu][moe]") {
  for (int32_t hidden : {64, 33, 1024}) {
    const int32_t n_tokens = 37, top_k = 3;
    INFO("hidden " << hidden);
    const size_t rows = size_t(n_tokens) * top_k;
    const auto p2a = random_perm_to_assignment(rows, 11 + uint64_t(hidden));
    const auto x = to_bf16(random_floats(size_t(n_tokens) * size_t(hidden), 12));
    DeviceBuffer<bf16> d_x(x);
    DeviceBuffer<int32_t> d_p2a(p2a);
    DeviceBuffer<bf16> d_out(rows * size_t(hidden));
    d_out.fill_bytes(0xff);
    moe_gather_rows(d_x.get(), hidden, d_p2a.get(), n_tokens, top_k, d_out.get(), nullptr);
    sync_and_check();
    const auto got = d_out.download();
    int32_t wrong = 0;
    for (size_t r = 0; r < rows; ++r)
      for (int32_t i = 0; i < hidden; ++i) {
        const uint16_t want =
            p2a[r] < 0 ? uint16_t(0) : bits_of(x[size_t(p2a[r] / top_k) * size_t(hidden) + size_t(i)]);
        wrong += bits_of(got[r * size_t(hidden) + size_t(i)]) != want ? 1 : 0;
      }
    CHECK(wrong == 0);
  }
}

TEST_CASE("moe_combine sums each token's weighted expert rows in fp32", "[gpu][moe]") {
  for (int32_t hidden : {64, 33, 512})
    for (bool accumulate : {false, true}) {
      const int32_t n_tokens = 37, top_k = 3;
      INFO("hidden " << hidden << (accumulate ? ", accumulate" : ""));
      const size_t n = size_t(n_tokens) * top_k;
      // assignment -> row: the inverse of a random permutation, -1 where a row has none.
      const auto p2a = random_perm_to_assignment(n, 21 + uint64_t(hidden));
      std::vector<int32_t> a2p(n, -1);
      for (size_t r = 0; r < n; ++r)
        if (p2a[r] >= 0) a2p[size_t(p2a[r])] = int32_t(r);
      const auto y = to_bf16(random_floats(n * size_t(hidden), 22, -2.0f, 2.0f));
      const auto weights = random_floats(n, 23, 0.0f, 1.0f, false);
      const auto prev = to_bf16(random_floats(size_t(n_tokens) * size_t(hidden), 24));

      std::vector<float> want(size_t(n_tokens) * size_t(hidden));
      for (int32_t t = 0; t < n_tokens; ++t)
        for (int32_t i = 0; i < hidden; ++i) {
          float acc = 0.0f;
          for (int32_t j = 0; j < top_k; ++j) {
            const int32_t row = a2p[size_t(t * top_k + j)];
            if (row >= 0) acc += weights[size_t(t * top_k + j)] * from_bf16(y[size_t(row) * size_t(hidden) + size_t(i)]);
          }
          const size_t o = size_t(t) * size_t(hidden) + size_t(i);
          if (accumulate) acc += from_bf16(prev[o]);
          want[o] = acc;
        }
      DeviceBuffer<bf16> d_y(y);
      DeviceBuffer<int32_t> d_a2p(a2p);
      DeviceBuffer<float> d_w(weights);
      DeviceBuffer<bf16> d_out(prev);
      moe_combine(d_y.get(), hidden, d_a2p.get(), d_w.get(), n_tokens, top_k, accumulate, d_out.get(), nullptr);
      sync_and_check();
      // fma vs multiply-add order moves the fp32 sum by an ulp or so; the bf16 store then
      // rounds to within half a bf16 ulp: one bf16 ulp relative covers both.
      CHECK(max_scaled_error(from_bf16(d_out.download()), want, 1e-6f, kBf16Eps) <= 1.0f);
    }
}

// ---- grouped GEMM -----------------------------------------------------------------

struct GemmCase {
  std::string name;
  int32_t n, k;
  std::vector<int32_t> rows_per_expert;
  int32_t tail_rows = 0;   // rows after offsets[E] (assignments without an expert): untouched
  bool offset_x = false;   // x one element past a 16-byte boundary: the element-load path
};

void check_grouped_gemm(const GemmCase& gc, uint64_t seed) {
  INFO(gc.name << ": n " << gc.n << ", k " << gc.k);
  const int32_t E = int32_t(gc.rows_per_expert.size()), n = gc.n, k = gc.k;
  std::vector<int32_t> offsets(size_t(E) + 1, 0);
  for (int32_t e = 0; e < E; ++e) offsets[size_t(e) + 1] = offsets[size_t(e)] + gc.rows_per_expert[size_t(e)];
  const int32_t valid_rows = offsets[size_t(E)], n_rows = valid_rows + gc.tail_rows;
  const auto x = random_floats(size_t(n_rows) * size_t(k), seed);  // bf16-exact
  const auto w = random_floats(size_t(E) * size_t(n) * size_t(k), seed + 1);

  std::vector<float> want(size_t(valid_rows) * size_t(n));
  for (int32_t e = 0; e < E; ++e)
    for (int32_t r = offsets[size_t(e)]; r < offsets[size_t(e) + 1]; ++r)
      for (int32_t c = 0; c < n; ++c) {
        double acc = 0.0;
        const float* xr = x.data() + size_t(r) * size_t(k);
        const float* wr = w.data() + (size_t(e) * size_t(n) + size_t(c)) * size_t(k);
        for (int32_t i = 0; i < k; ++i) acc += double(xr[i]) * double(wr[i]);
        want[size_t(r) * size_t(n) + size_t(c)] = float(acc);
      }

  const size_t shift = gc.offset_x ? 1 : 0;
  std::vector<bf16> x_host(size_t(n_rows) * size_t(k) + shift, to_bf16(0.0f));
  const auto xb = to_bf16(x);
  std::copy(xb.begin(), xb.end(), x_host.begin() + ptrdiff_t(shift));
  DeviceBuffer<bf16> d_x(x_host);
  DeviceBuffer<bf16> d_w(to_bf16(w));
  DeviceBuffer<int32_t> d_offsets(offsets);
  DeviceBuffer<bf16> d_y(size_t(n_rows) * size_t(n));
  d_y.fill_bytes(0xff);  // NaN: shows rows the kernel never wrote (or wrote but should not)
  moe_grouped_gemm(d_x.get() + shift, n_rows, k, d_w.get(), n, E, d_offsets.get(), d_y.get(), nullptr);
  sync_and_check();
  const auto y = d_y.download();
  const std::vector<float> got = from_bf16(std::vector<bf16>(y.begin(), y.begin() + ptrdiff_t(want.size())));
  // fp32 accumulation on tensor cores, one bf16 rounding of the result: half a bf16 ulp
  // relative, doubled for slack; 1e-3 absolute for results that cancel towards 0.
  CHECK(max_scaled_error(got, want, 1e-3f, kBf16Eps) <= 1.0f);
  int32_t tail_written = 0;
  for (size_t i = want.size(); i < y.size(); ++i) tail_written += bits_of(y[i]) != 0xffff ? 1 : 0;
  CHECK(tail_written == 0);
}

TEST_CASE("moe_grouped_gemm multiplies each expert's rows by its weights", "[gpu][moe]") {
  TestRng rng(31);
  auto random_counts = [&](int32_t experts, int32_t max_rows, int32_t zero_one_in) {
    std::vector<int32_t> v(static_cast<size_t>(experts));
    for (auto& c : v) c = rng.below(zero_one_in) == 0 ? 0 : rng.below(max_rows + 1);
    return v;
  };
  std::vector<int32_t> one_hot(16, 0);
  one_hot[15] = 200;
  const std::vector<GemmCase> cases = {
      {"empty expert, rows off the tile, one tile, three tiles", 64, 64, {0, 37, 64, 129}},
      {"tiny model: expert width 96, hidden 32", 96, 32, random_counts(8, 20, 4)},
      {"odd n and k: element loads and stores", 33, 45, {5, 0, 70}},
      {"n 40 (part of a column tile), k 72 (part of a k tile)", 40, 72, {1, 63, 65, 0, 2}},
      {"one expert takes every row", 64, 64, one_hot},
      {"one row", 32, 96, {0, 1}},
      {"larger: 8 experts, n 256, k 512", 256, 512, random_counts(8, 250, 8)},
      {"rows after the last expert stay untouched", 64, 64, {10, 20, 0, 5}, 7},
      {"unaligned x: element loads with k % 8 == 0", 64, 64, {17, 0, 40}, 0, true},
      {"decode-like: 64 rows over 256 experts", 64, 128, random_counts(256, 2, 2)},
      {"k below one tile, n above two tiles", 136, 8, {3, 70}},
  };
  uint64_t seed = 40;
  for (const auto& gc : cases) check_grouped_gemm(gc, seed += 2);
}

// ---- the pieces together ----------------------------------------------------------------

TEST_CASE("route, align, gather, grouped GEMM and combine give the host's mixture", "[gpu][moe]") {
  // One linear map per expert (the backend's expert MLP is three such GEMMs around silu_mul):
  // out[t] = shared[t] + sum_j w_tj · x[t] · W[id_tj]ᵀ, with ids and weights from route_token.
  const int32_t T = 33, E = 16, K = 4, H = 64;
  const MoeConfig c = moe(E, K, "softmax", "greedy", 1, 1, true, 1.0, false);
  const ModelFamily family = ModelFamily::Qwen2Moe;
  const auto logits = grid_logits(size_t(T) * E, 51);
  const auto x = random_floats(size_t(T) * H, 52);
  const auto w = random_floats(size_t(E) * H * H, 53, -0.25f, 0.25f);
  const auto shared = random_floats(size_t(T) * H, 54);

  std::vector<int32_t> ids(size_t(T) * K);
  std::vector<float> weights(ids.size());
  for (int32_t t = 0; t < T; ++t)
    warden::engine::cpu::route_token(c, family, logits.data() + int64_t(t) * E, nullptr, ids.data() + int64_t(t) * K,
                                     weights.data() + int64_t(t) * K);
  std::vector<float> want(size_t(T) * H);
  for (int32_t t = 0; t < T; ++t)
    for (int32_t o = 0; o < H; ++o) {
      double acc = 0.0;
      for (int32_t j = 0; j < K; ++j) {
        const int32_t e = ids[size_t(t * K + j)];
        // The device rounds each expert's output to bf16 before the weighted sum.
        double dot = 0.0;
        for (int32_t i = 0; i < H; ++i)
          dot += double(x[size_t(t * H + i)]) * double(w[(size_t(e) * H + size_t(o)) * H + size_t(i)]);
        acc += double(weights[size_t(t * K + j)]) * double(round_bf16(float(dot)));
      }
      want[size_t(t * H + o)] = float(acc) + shared[size_t(t * H + o)];
    }

  DeviceBuffer<float> d_logits(logits);
  DeviceBuffer<int32_t> d_ids(ids.size());
  DeviceBuffer<float> d_weights(ids.size());
  DeviceBuffer<int32_t> d_offsets(size_t(E) + 1), d_p2a(ids.size()), d_a2p(ids.size());
  DeviceBuffer<unsigned char> d_ws(moe_align_workspace_bytes(T, K, E));
  DeviceBuffer<bf16> d_x(to_bf16(x)), d_w(to_bf16(w)), d_xp(ids.size() * H), d_yp(ids.size() * H);
  DeviceBuffer<bf16> d_out(to_bf16(shared));
  moe_route(d_logits.get(), nullptr, T, routing_of(c, family), d_ids.get(), d_weights.get(), nullptr);
  moe_align(d_ids.get(), T, K, E, d_offsets.get(), d_p2a.get(), d_a2p.get(), d_ws.get(), d_ws.size(), nullptr);
  moe_gather_rows(d_x.get(), H, d_p2a.get(), T, K, d_xp.get(), nullptr);
  moe_grouped_gemm(d_xp.get(), T * K, H, d_w.get(), H, E, d_offsets.get(), d_yp.get(), nullptr);
  moe_combine(d_yp.get(), H, d_a2p.get(), d_weights.get(), T, K, true, d_out.get(), nullptr);
  sync_and_check();
  CHECK(d_ids.download() == ids);
  // Each expert output within half a bf16 ulp (rounded on both sides, but from fp32 vs
  // double sums), the final store one more half ulp: 2 bf16 ulps relative, 2e-3 absolute.
  CHECK(max_scaled_error(from_bf16(d_out.download()), want, 2e-3f, 2 * kBf16Eps) <= 1.0f);
}

}  // namespace
