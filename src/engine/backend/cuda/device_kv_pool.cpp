#include "device_kv_pool.hpp"

#include <stdexcept>
#include <string>

namespace warden::engine::cuda {

namespace {
size_t block_elems(const kernels::PagedKvLayout& l) {
  return size_t(l.num_kv_heads) * size_t(l.block_tokens) * size_t(l.k_dim + l.v_dim);
}
}  // namespace

size_t DeviceKvPool::bytes_per_block(int32_t layers, const kernels::PagedKvLayout& layout) {
  return size_t(layers) * block_elems(layout) * sizeof(bf16);
}

void DeviceKvPool::allocate(int32_t layers, int32_t num_blocks, kernels::PagedKvLayout layout) {
  if (layers <= 0 || num_blocks <= 0 || layout.block_tokens <= 0 || layout.num_kv_heads <= 0)
    throw std::invalid_argument("DeviceKvPool: bad shape (" + std::to_string(num_blocks) + " blocks of " +
                                std::to_string(layout.block_tokens) + " tokens)");
  memory_.reset();
  layers_ = layers;
  layout_ = layout;
  num_blocks_ = 0;
  memory_.ensure(size_t(num_blocks) * bytes_per_block(layers, layout));
  num_blocks_ = num_blocks;
}

size_t DeviceKvPool::layer_elems() const { return size_t(num_blocks_) * block_elems(layout_); }

bf16* DeviceKvPool::keys(int32_t layer) const { return memory_.as<bf16>() + size_t(layer) * layer_elems(); }

bf16* DeviceKvPool::values(int32_t layer) const {
  // A layer's K blocks first, then its V blocks.
  return keys(layer) + size_t(num_blocks_) * size_t(layout_.num_kv_heads) * size_t(layout_.block_tokens) *
                           size_t(layout_.k_dim);
}

}  // namespace warden::engine::cuda
