#pragma once
// Rotary position embedding in place, rotate-half (GPT-NeoX) layout as HF Qwen2/Llama:
// within a head's rotated part, dims i and i + rot_dim/2 pair up with angle
// pos * inv_freq[i]. The angles come from a host-built table (double precision, with
// Llama-3 scaling or DeepSeek yarn and its mscale already applied), so the kernel only
// reads cos/sin:  cos_sin[pos * rot_dim + i] = cos,  cos_sin[pos * rot_dim + rot_dim/2 + i] = sin.
//
// `interleaved` is DeepSeek MLA: the input pairs are (x[2i], x[2i+1]) and the output is
// written in rotate-half order, as HF DeepSeek-V2's apply_rotary_pos_emb leaves it.
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

struct RopeTarget {
  bf16* data = nullptr;      // [n_tokens][token_stride]
  int64_t token_stride = 0;  // elements between tokens
  int32_t num_heads = 0;
  int32_t head_stride = 0;   // elements between heads of one token
  int32_t rot_offset = 0;    // first rotated element within a head (MLA: qk_nope_head_dim)
};

// Rotates q and k of n_tokens tokens (k.data may be null: nothing to rotate there).
void rope(RopeTarget q, RopeTarget k, const int32_t* positions, int32_t n_tokens, const float* cos_sin,
          int32_t rot_dim, bool interleaved, cudaStream_t stream);

}  // namespace warden::kernels
