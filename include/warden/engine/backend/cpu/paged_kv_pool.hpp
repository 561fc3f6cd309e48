#pragma once
// The CPU backend's KV memory: per layer, K as [num_blocks][block_tokens][k_row] and V
// as [num_blocks][block_tokens][v_row] fp32 (a row is num_kv_heads × per-head width;
// K and V widths differ under MLA). Which blocks a sequence uses is the scheduler's
// business (SequenceSlice::block_table); this class only maps (block, slot) to memory.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace warden::engine::cpu {

class PagedKvPool {
 public:
  PagedKvPool() = default;
  void allocate(int32_t layers, int32_t num_blocks, int32_t block_tokens, int32_t k_row, int32_t v_row);
  static size_t bytes_per_block(int32_t layers, int32_t block_tokens, int32_t k_row, int32_t v_row);

  bool allocated() const { return num_blocks_ > 0; }
  int32_t num_blocks() const { return num_blocks_; }
  int32_t block_tokens() const { return block_tokens_; }
  // Start of the K (V) row for `pos` of a sequence with `block_table`.
  float* key(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos);
  float* value(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos);

 private:
  size_t slot(const std::vector<int32_t>& block_table, int64_t pos) const;

  int32_t num_blocks_ = 0, block_tokens_ = 0, k_row_ = 0, v_row_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace warden::engine::cpu
