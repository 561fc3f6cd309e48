#pragma once
// Embedding gather: out[t] = table[ids[t]] for n_tokens rows of `hidden` bf16.
// An id outside [0, vocab) writes a zero row (the scheduler never sends one; a bad id
// must not read out of bounds).
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

void embedding_gather(const bf16* table, int32_t vocab, int32_t hidden, const int32_t* ids, int32_t n_tokens,
                      bf16* out, cudaStream_t stream);

}  // namespace warden::kernels
