#pragma once
// Shared vocabulary of the kernels: bf16 storage, fp32 math. Host C++ (g++) includes
// the op headers too, so they declare plain functions and use only CUDA runtime types.
// Every launcher enqueues on `stream` and returns; the caller checks cudaGetLastError
// (src/engine/backend/cuda/cuda_check.hpp) — kernels/ knows nothing of warden.
#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

namespace warden::kernels {

using bf16 = __nv_bfloat16;

// Paged KV layout used by kv_cache_write and both attention kernels, per layer:
//   K: [num_blocks][num_kv_heads][block_tokens][k_dim]   bf16
//   V: [num_blocks][num_kv_heads][block_tokens][v_dim]   bf16
// A head's tokens of one block are contiguous, so a warp reads a block's keys of one
// head as one run. Token `pos` of a sequence lives in block block_table[pos / block_tokens]
// at offset pos % block_tokens; a "slot" is block * block_tokens + offset.
struct PagedKvLayout {
  int32_t num_kv_heads = 0;
  int32_t k_dim = 0;
  int32_t v_dim = 0;
  int32_t block_tokens = 0;
};

}  // namespace warden::kernels
