#pragma once
// The CPU backend's KV memory: per layer, K and V as [num_blocks][block_tokens]
// [num_kv_heads][head_dim] fp32. Which blocks a sequence uses is the scheduler's
// business (SequenceSlice::block_table); this class only maps (block, slot) to memory.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace warden::engine::cpu {

class PagedKvPool {
 public:
  PagedKvPool() = default;
  void allocate(int32_t layers, int32_t num_blocks, int32_t block_tokens, int32_t kv_heads, int32_t head_dim);
  static size_t bytes_per_block(int32_t layers, int32_t block_tokens, int32_t kv_heads, int32_t head_dim);

  bool allocated() const { return num_blocks_ > 0; }
  int32_t num_blocks() const { return num_blocks_; }
  int32_t block_tokens() const { return block_tokens_; }
  // Start of the [kv_heads][head_dim] row for `pos` of a sequence with `block_table`.
  float* key(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos);
  float* value(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos);

 private:
  size_t offset(const std::vector<int32_t>& block_table, int64_t pos) const;

  int32_t num_blocks_ = 0, block_tokens_ = 0, row_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace warden::engine::cpu
