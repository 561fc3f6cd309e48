// kv_cache_write against the CPU backend's PagedKvPool: the same rows written to the
// same (block, offset) through the CPU pool's own addressing must read back from the
// device cache (head-major within a block, kernel_types.cuh) bit for bit, and every
// slot not written must keep its initial bytes. A copy: no rounding, so exact equality.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/gpu_test_support.hpp"
#include "kernels/kv_cache_write.cuh"
#include "warden/engine/backend/cpu/paged_kv_pool.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;
using warden::engine::cpu::PagedKvPool;

namespace {

struct Sequence {
  std::vector<int32_t> block_table;
  int32_t first_pos;  // positions first_pos .. first_pos + n_tokens - 1 are written
  int32_t n_tokens;
};

struct Case {
  wk::PagedKvLayout layout;
  int32_t num_blocks;
  int64_t k_stride, v_stride;  // token row strides of the new K and V
  bool with_v;
  std::vector<Sequence> seqs;
  int32_t padding_every;  // a padding token (slot -1) after every n real ones (0: none)
};

void run_case(const Case& cs, uint64_t seed) {
  const wk::PagedKvLayout& L = cs.layout;
  const int32_t bt = L.block_tokens, heads = L.num_kv_heads;

  // Slots in batch order; padding tokens interleaved.
  std::vector<int32_t> slots;
  std::vector<int64_t> seq_of_token, pos_of_token;  // per token; -1 for padding
  for (size_t s = 0; s < cs.seqs.size(); ++s) {
    for (int32_t i = 0; i < cs.seqs[s].n_tokens; ++i) {
      const int32_t pos = cs.seqs[s].first_pos + i;
      slots.push_back(cs.seqs[s].block_table[size_t(pos / bt)] * bt + pos % bt);
      seq_of_token.push_back(int64_t(s));
      pos_of_token.push_back(pos);
      if (cs.padding_every > 0 && slots.size() % size_t(cs.padding_every) == 0) {
        slots.push_back(-1);
        seq_of_token.push_back(-1);
        pos_of_token.push_back(-1);
      }
    }
  }
  const int32_t n = int32_t(slots.size());

  const std::vector<float> k = random_floats(size_t(n * cs.k_stride), seed, -4.0f, 4.0f);
  const std::vector<float> v = random_floats(size_t(n * cs.v_stride), seed + 1, -4.0f, 4.0f);
  const size_t k_cache_n = size_t(cs.num_blocks) * heads * bt * L.k_dim;
  const size_t v_cache_n = size_t(cs.num_blocks) * heads * bt * L.v_dim;
  DeviceBuffer<bf16> dk(to_bf16(k)), dv(to_bf16(v)), dkc(k_cache_n), dvc(v_cache_n);
  DeviceBuffer<int32_t> dslots(slots);
  dkc.fill_bytes(0xab);  // a recognisable value in every slot not written
  dvc.fill_bytes(0xab);
  wk::kv_cache_write(dk.get(), cs.k_stride, cs.with_v ? dv.get() : nullptr, cs.v_stride, dslots.get(), n, L,
                     dkc.get(), cs.with_v ? dvc.get() : nullptr, nullptr);
  sync_and_check();
  const std::vector<bf16> kc = dkc.download(), vc = dvc.download();

  // Reference: the CPU pool (fp32 rows of heads × dim per slot), written by sequence
  // position through its own block-table addressing. Unwritten slots hold NaN.
  PagedKvPool pool;
  pool.allocate(1, cs.num_blocks, bt, heads * L.k_dim, heads * std::max(L.v_dim, 1));
  std::vector<bool> written(size_t(cs.num_blocks) * bt, false);
  for (int32_t t = 0; t < n; ++t) {
    if (seq_of_token[size_t(t)] < 0) continue;
    const Sequence& sq = cs.seqs[size_t(seq_of_token[size_t(t)])];
    const int64_t pos = pos_of_token[size_t(t)];
    std::memcpy(pool.key(0, sq.block_table, pos), &k[size_t(t * cs.k_stride)], sizeof(float) * heads * L.k_dim);
    if (cs.with_v)
      std::memcpy(pool.value(0, sq.block_table, pos), &v[size_t(t * cs.v_stride)], sizeof(float) * heads * L.v_dim);
    written[size_t(slots[size_t(t)])] = true;
  }

  const uint16_t fill = 0xabab;
  size_t bad_k = 0, bad_v = 0, bad_fill = 0;
  for (int32_t b = 0; b < cs.num_blocks; ++b) {
    for (int32_t off = 0; off < bt; ++off) {
      const bool w = written[size_t(b * bt + off)];
      const float* pk = w ? pool.key(0, {b}, off) : nullptr;
      const float* pv = w && cs.with_v ? pool.value(0, {b}, off) : nullptr;
      for (int32_t h = 0; h < heads; ++h) {
        const size_t krow = ((size_t(b) * heads + h) * bt + off) * L.k_dim;
        for (int32_t e = 0; e < L.k_dim; ++e) {
          if (w) bad_k += from_bf16(kc[krow + e]) != pk[h * L.k_dim + e];
          else bad_fill += bits_of(kc[krow + e]) != fill;
        }
        const size_t vrow = ((size_t(b) * heads + h) * bt + off) * L.v_dim;
        for (int32_t e = 0; e < L.v_dim; ++e) {
          if (pv) bad_v += from_bf16(vc[vrow + e]) != pv[h * L.v_dim + e];
          else bad_fill += bits_of(vc[vrow + e]) != fill;
        }
      }
    }
  }
  CHECK(bad_k == 0u);
  CHECK(bad_v == 0u);
  CHECK(bad_fill == 0u);
}

}  // namespace

TEST_CASE("kv_cache_write: GQA heads across block boundaries, padding skipped", "[gpu][kv_cache]") {
  Case cs;
  cs.layout = {2, 128, 128, 16};
  cs.num_blocks = 8;
  cs.k_stride = 2 * 128;
  cs.v_stride = 2 * 128;
  cs.with_v = true;
  cs.seqs = {{{3, 5}, 0, 21},       // prefill crossing from block 3 into block 5
             {{1, 6, 2}, 14, 20},   // a chunk starting mid-block, spanning three blocks
             {{7}, 15, 1}};         // a decode token in a block's last slot
  cs.padding_every = 7;
  run_case(cs, 1);
}

TEST_CASE("kv_cache_write: K and V rows read from a fused QKV row (strided)", "[gpu][kv_cache]") {
  Case cs;
  cs.layout = {4, 64, 64, 32};
  cs.num_blocks = 5;
  cs.k_stride = (16 + 4 + 4) * 64;  // the K and V parts of a [q | k | v] row
  cs.v_stride = cs.k_stride;
  cs.with_v = true;
  cs.seqs = {{{4, 0, 2}, 0, 70}, {{3}, 31, 1}};
  cs.padding_every = 0;
  run_case(cs, 2);
}

TEST_CASE("kv_cache_write: odd widths and strides (scalar path), K vectorised with V not", "[gpu][kv_cache]") {
  Case odd;
  odd.layout = {3, 7, 5, 4};
  odd.num_blocks = 6;
  odd.k_stride = 3 * 7 + 1;
  odd.v_stride = 3 * 5 + 2;
  odd.with_v = true;
  odd.seqs = {{{5, 1, 3}, 2, 9}, {{0}, 0, 3}};
  odd.padding_every = 4;
  run_case(odd, 3);

  Case mixed;
  mixed.layout = {2, 64, 12, 8};
  mixed.num_blocks = 4;
  mixed.k_stride = 2 * 64;
  mixed.v_stride = 2 * 12;  // v_dim 12: not a multiple of 8
  mixed.with_v = true;
  mixed.seqs = {{{2, 3, 0}, 5, 17}};
  mixed.padding_every = 5;
  run_case(mixed, 4);
}

TEST_CASE("kv_cache_write: K only (no V cache, as an MLA latent cache)", "[gpu][kv_cache]") {
  Case cs;
  cs.layout = {1, 576, 0, 64};
  cs.num_blocks = 3;
  cs.k_stride = 576;
  cs.v_stride = 0;
  cs.with_v = false;
  cs.seqs = {{{2, 0}, 60, 9}, {{1}, 0, 64}};
  cs.padding_every = 11;
  run_case(cs, 5);
}
