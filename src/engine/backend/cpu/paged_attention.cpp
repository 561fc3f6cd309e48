#include "warden/engine/backend/cpu/paged_attention.hpp"

#include <cmath>
#include <vector>

#include "warden/engine/backend/cpu/rowwise_gemm.hpp"

namespace warden::engine::cpu {

void paged_attention(const AttentionShape& s, const float* q, int32_t num_new, int64_t first_pos, int32_t layer,
                     const std::vector<int32_t>& block_table, PagedKvPool& pool, ThreadPool& threads, float* out) {
  const int32_t d = s.k_dim, dv = s.v_dim, group = s.num_heads / s.num_kv_heads;
  const int64_t q_row = int64_t(s.num_heads) * d, o_row = int64_t(s.num_heads) * dv;
  const float scale = s.scale;
  // Resolve each position's K/V rows once; the pool lookup is the same for all heads.
  const int64_t total = first_pos + num_new;
  std::vector<const float*> keys(static_cast<size_t>(total)), values(static_cast<size_t>(total));
  for (int64_t p = 0; p < total; ++p) {
    keys[size_t(p)] = pool.key(layer, block_table, p);
    values[size_t(p)] = pool.value(layer, block_table, p);
  }
  threads.parallel_for(int64_t(num_new) * s.num_heads, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(total));
    std::vector<float> acc(static_cast<size_t>(dv));
    for (int64_t job = begin; job < end; ++job) {
      const int64_t i = job / s.num_heads;
      const int32_t h = int32_t(job % s.num_heads), g = h / group;
      const float* qv = q + i * q_row + int64_t(h) * d;
      const int64_t last = first_pos + i;  // causal: positions 0..last
      float max_score = -INFINITY;
      for (int64_t p = 0; p <= last; ++p) {
        const float* kv = keys[size_t(p)] + int64_t(g) * d;
        scores[size_t(p)] = rowwise_dot(qv, kv, d) * scale;
        if (scores[size_t(p)] > max_score) max_score = scores[size_t(p)];
      }
      float sum = 0.0f;
      for (int64_t p = 0; p <= last; ++p) {
        scores[size_t(p)] = std::exp(scores[size_t(p)] - max_score);
        sum += scores[size_t(p)];
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t p = 0; p <= last; ++p) {
        const float* vv = values[size_t(p)] + int64_t(g) * dv;
        const float w = scores[size_t(p)];
        for (int32_t t = 0; t < dv; ++t) acc[size_t(t)] += w * vv[t];
      }
      float* o = out + i * o_row + int64_t(h) * dv;
      const float inv = 1.0f / sum;
      for (int32_t t = 0; t < dv; ++t) o[t] = acc[size_t(t)] * inv;
    }
  });
}

}  // namespace warden::engine::cpu
