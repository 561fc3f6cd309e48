// rope against the CPU backend's Rotary (apply / apply_interleaved) on bf16-exact
// inputs, with the cos/sin table built from Rotary::angles as the CUDA backend does.
//
// Error bound: each output is a fp32 a·cos ∓ b·sin rounded once to bf16: off by at
// most 2^-8·|cpu| (bf16 unit roundoff) plus fp32 rounding differences of the two
// products (fma or not, ≤ 2^-23·(|a|+|b|)·|cos|+|sin| ≈ 1e-6 here): rtol = 2^-8,
// atol = 1e-5. Everything outside the rotated parts must be bit-identical.
#include <cstdint>
#include <vector>

#include "kernels/gpu_test_support.hpp"
#include "kernels/rope.cuh"
#include "warden/engine/backend/cpu/rotary.hpp"
#include "warden/engine/model/model_config.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;
using warden::engine::ModelConfig;
using warden::engine::cpu::Rotary;

namespace {

constexpr float kRtol = kBf16Eps;
constexpr float kAtol = 1e-5f;

// cos_sin[pos][rot_dim]: cos in the first half, sin in the second (rope.cuh).
std::vector<float> build_table(const Rotary& rot, int64_t max_pos) {
  const int32_t half = rot.half();
  std::vector<float> t(size_t(max_pos) * 2 * half);
  for (int64_t p = 0; p < max_pos; ++p) rot.angles(p, &t[size_t(p * 2 * half)], &t[size_t(p * 2 * half + half)]);
  return t;
}

// One rotated operand inside a token-major buffer (mirrors wk::RopeTarget on the host).
struct HostTarget {
  int64_t base = 0;  // element offset of token 0's head 0 in the buffer
  int64_t token_stride = 0;
  int32_t num_heads = 0;
  int32_t head_stride = 0;
  int32_t rot_offset = 0;
};

wk::RopeTarget on_device(DeviceBuffer<bf16>& buf, const HostTarget& t) {
  return {buf.get() + t.base, t.token_stride, t.num_heads, t.head_stride, t.rot_offset};
}

// The CPU op applied to every token's heads of `t` in a float copy of the buffer.
void cpu_rotate(std::vector<float>& buf, const HostTarget& t, const Rotary& rot, const std::vector<int32_t>& pos,
                bool interleaved) {
  const int32_t half = rot.half();
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (size_t n = 0; n < pos.size(); ++n) {
    rot.angles(pos[n], c.data(), s.data());
    float* x = buf.data() + t.base + int64_t(n) * t.token_stride + t.rot_offset;
    if (interleaved) rot.apply_interleaved(x, t.num_heads, c.data(), s.data(), t.head_stride);
    else rot.apply(x, t.num_heads, c.data(), s.data(), t.head_stride);
  }
}

struct Case {
  const char* name;
  ModelConfig config;
  int32_t n_tokens;
  int64_t token_width;  // elements per token in the buffer (q, k and whatever else)
  HostTarget q, k;
  bool with_k;
  bool interleaved;
  int64_t max_pos;
};

ModelConfig dense(int32_t head_dim, double theta) {
  ModelConfig c;
  c.head_dim = head_dim;
  c.rope_theta = theta;
  return c;
}

void run_case(const Case& cs, uint64_t seed) {
  const Rotary rot(cs.config);
  const int32_t rot_dim = 2 * rot.half();
  const std::vector<float> table = build_table(rot, cs.max_pos);
  TestRng rng(seed);
  std::vector<int32_t> pos(size_t(cs.n_tokens));
  for (auto& p : pos) p = rng.below(int32_t(cs.max_pos));
  pos.back() = int32_t(cs.max_pos - 1);  // the last table row
  pos.front() = 0;

  const std::vector<float> x = random_floats(size_t(cs.n_tokens * cs.token_width), seed + 1, -2.0f, 2.0f);
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<int32_t> dpos(pos);
  DeviceBuffer<float> dtable(table);
  const wk::RopeTarget k = cs.with_k ? on_device(dx, cs.k) : wk::RopeTarget{};
  wk::rope(on_device(dx, cs.q), k, dpos.get(), cs.n_tokens, dtable.get(), rot_dim, cs.interleaved, nullptr);
  sync_and_check();
  const std::vector<float> got = from_bf16(dx.download());

  std::vector<float> want = x;
  cpu_rotate(want, cs.q, rot, pos, cs.interleaved);
  if (cs.with_k) cpu_rotate(want, cs.k, rot, pos, cs.interleaved);
  // Untouched elements stay bit-identical (then want == x there, and the scaled error
  // below is 0 for them only if the kernel left them alone).
  CHECK(max_scaled_error(got, want, kAtol, kRtol) <= 1.0f);
  size_t changed_outside = 0;
  std::vector<bool> rotated(x.size(), false);
  auto mark = [&](const HostTarget& t) {
    for (int32_t n = 0; n < cs.n_tokens; ++n)
      for (int32_t h = 0; h < t.num_heads; ++h)
        for (int32_t i = 0; i < rot_dim; ++i)
          rotated[size_t(t.base + n * t.token_stride + int64_t(h) * t.head_stride + t.rot_offset + i)] = true;
  };
  mark(cs.q);
  if (cs.with_k) mark(cs.k);
  for (size_t i = 0; i < x.size(); ++i) changed_outside += !rotated[i] && got[i] != x[i];
  CHECK(changed_outside == 0u);
}

}  // namespace

TEST_CASE("rope rotate-half matches the CPU Rotary (Qwen2 GQA in a fused QKV row)", "[gpu][rope]") {
  // 14 q heads, 2 kv heads of 64 in one [q | k | v] row per token; V must stay untouched.
  Case cs{"qwen2", dense(64, 1e6), 37, (14 + 2 + 2) * 64, {}, {}, true, false, 4096};
  cs.q = {0, cs.token_width, 14, 64, 0};
  cs.k = {14 * 64, cs.token_width, 2, 64, 0};
  run_case(cs, 11);
}

TEST_CASE("rope with Llama-3 scaling, 128-wide heads, long positions", "[gpu][rope]") {
  ModelConfig c = dense(128, 500000.0);
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 8.0;
  c.rope_scaling.low_freq_factor = 1.0;
  c.rope_scaling.high_freq_factor = 4.0;
  c.rope_scaling.original_max_position_embeddings = 8192;
  // Separate q and k buffers are modelled as one buffer with q first, k after all of q:
  // here q and k share a token row of 32 + 8 heads (GQA 4:1) plus 8 v heads.
  Case cs{"llama3", c, 29, (32 + 8 + 8) * 128, {}, {}, true, false, 20000};
  cs.q = {0, cs.token_width, 32, 128, 0};
  cs.k = {32 * 128, cs.token_width, 8, 128, 0};
  run_case(cs, 12);
}

TEST_CASE("rope with an awkward head width (half = 40: lanes loop twice, partly)", "[gpu][rope]") {
  Case cs{"odd", dense(80, 10000.0), 5, 7 * 80 + 3, {}, {}, true, false, 300};
  cs.q = {0, cs.token_width, 5, 80, 0};
  cs.k = {5 * 80, cs.token_width, 2, 80, 0};  // 3 trailing elements per token stay as they are
  run_case(cs, 13);
}

TEST_CASE("rope with no k operand rotates q only", "[gpu][rope]") {
  Case cs{"q only", dense(64, 10000.0), 3, 4 * 64, {}, {}, false, false, 64};
  cs.q = {0, cs.token_width, 4, 64, 0};
  run_case(cs, 14);
}

TEST_CASE("rope interleaved (DeepSeek MLA) matches apply_interleaved, yarn scaling", "[gpu][rope]") {
  ModelConfig c;
  c.mla.enabled = true;
  c.mla.qk_nope_head_dim = 32;
  c.mla.qk_rope_head_dim = 16;
  c.mla.kv_lora_rank = 64;
  c.mla.v_head_dim = 32;
  c.rope_theta = 10000.0;
  c.rope_scaling.type = "yarn";
  c.rope_scaling.factor = 40.0;
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.rope_scaling.mscale = 1.0;
  c.rope_scaling.mscale_all_dim = 1.0;
  // Token row: q (3 heads × [nope 32 | rope 16]) then the compressed kv [latent 64 | k_pe 16].
  Case cs{"mla", c, 23, 3 * 48 + 64 + 16, {}, {}, true, true, 9000};
  cs.q = {0, cs.token_width, 3, 48, 32};
  cs.k = {3 * 48, cs.token_width, 1, 80, 64};
  run_case(cs, 15);
}

TEST_CASE("rope interleaved with a wide rotated part (several pairs per lane)", "[gpu][rope]") {
  ModelConfig c;
  c.mla.enabled = true;
  c.mla.qk_nope_head_dim = 8;
  c.mla.qk_rope_head_dim = 200;  // half = 100: four lane passes, the last partial
  c.mla.kv_lora_rank = 16;
  c.mla.v_head_dim = 8;
  Case cs{"wide", c, 6, 9 * 208 + 216, {}, {}, true, true, 128};
  cs.q = {0, cs.token_width, 9, 208, 8};  // 9 heads: more heads than warps in a block
  cs.k = {9 * 208, cs.token_width, 1, 216, 16};
  run_case(cs, 16);
}
