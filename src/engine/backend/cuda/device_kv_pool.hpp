#pragma once
// The paged KV cache on the device: one cudaMalloc for every layer's K and V, each in
// the PagedKvLayout of kernels/kernel_types.cuh ([block][kv_head][token][dim] bf16).
// Which blocks a sequence uses is the scheduler's business; this only owns the memory.
#include <cstddef>
#include <cstdint>

#include "device_buffer.hpp"
#include "kernels/kernel_types.cuh"

namespace warden::engine::cuda {

using kernels::bf16;

class DeviceKvPool {
 public:
  DeviceKvPool() = default;
  void allocate(int32_t layers, int32_t num_blocks, kernels::PagedKvLayout layout);
  static size_t bytes_per_block(int32_t layers, const kernels::PagedKvLayout& layout);

  bool allocated() const { return num_blocks_ > 0; }
  int32_t num_blocks() const { return num_blocks_; }
  const kernels::PagedKvLayout& layout() const { return layout_; }
  bf16* keys(int32_t layer) const;
  bf16* values(int32_t layer) const;
  size_t bytes() const { return memory_.bytes(); }

 private:
  size_t layer_elems() const;  // K + V of one layer

  DeviceBuffer memory_;
  int32_t layers_ = 0, num_blocks_ = 0;
  kernels::PagedKvLayout layout_;
};

}  // namespace warden::engine::cuda
