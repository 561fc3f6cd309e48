#include "warden/engine/backend/cpu/paged_kv_pool.hpp"

#include <stdexcept>
#include <string>

namespace warden::engine::cpu {

void PagedKvPool::allocate(int32_t layers, int32_t num_blocks, int32_t block_tokens, int32_t k_row, int32_t v_row) {
  if (num_blocks <= 0 || block_tokens <= 0) throw std::invalid_argument("KV pool needs blocks > 0 and block_tokens > 0");
  num_blocks_ = num_blocks;
  block_tokens_ = block_tokens;
  k_row_ = k_row;
  v_row_ = v_row;
  const size_t slots = size_t(num_blocks) * size_t(block_tokens);
  k_.assign(size_t(layers), std::vector<float>(slots * size_t(k_row), 0.0f));
  v_.assign(size_t(layers), std::vector<float>(slots * size_t(v_row), 0.0f));
}

size_t PagedKvPool::bytes_per_block(int32_t layers, int32_t block_tokens, int32_t k_row, int32_t v_row) {
  return size_t(layers) * size_t(block_tokens) * (size_t(k_row) + size_t(v_row)) * sizeof(float);
}

size_t PagedKvPool::slot(const std::vector<int32_t>& block_table, int64_t pos) const {
  const int64_t index = pos / block_tokens_;
  if (index >= int64_t(block_table.size()))
    throw std::logic_error("block_table has " + std::to_string(block_table.size()) + " blocks but position " +
                           std::to_string(pos) + " was addressed");
  const int32_t block = block_table[size_t(index)];
  if (block < 0 || block >= num_blocks_) throw std::logic_error("KV block id " + std::to_string(block) + " out of range");
  return size_t(block) * size_t(block_tokens_) + size_t(pos % block_tokens_);
}

float* PagedKvPool::key(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos) {
  return k_[size_t(layer)].data() + slot(block_table, pos) * size_t(k_row_);
}

float* PagedKvPool::value(int32_t layer, const std::vector<int32_t>& block_table, int64_t pos) {
  return v_[size_t(layer)].data() + slot(block_table, pos) * size_t(v_row_);
}

}  // namespace warden::engine::cpu
