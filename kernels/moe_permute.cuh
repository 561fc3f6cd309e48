#pragma once
// Groups a step's (token, expert) assignments by expert so each expert multiplies one
// contiguous block of rows (moe_grouped_gemm), then scatters the results back.
// An assignment is a = token * top_k + j (the j-th choice of the token).
#include <cstddef>

#include "kernels/kernel_types.cuh"

namespace warden::kernels {

// Fills, all on the device (no host sync):
//   expert_offsets [num_experts + 1]: expert e owns permuted rows [offsets[e], offsets[e+1])
//   perm_to_assignment [n_tokens * top_k]: permuted row -> assignment
//   assignment_to_perm [n_tokens * top_k]: assignment -> permuted row
// Stable: an expert's rows keep token order, so results don't depend on thread timing.
size_t moe_align_workspace_bytes(int32_t n_tokens, int32_t top_k, int32_t num_experts);
void moe_align(const int32_t* topk_ids, int32_t n_tokens, int32_t top_k, int32_t num_experts, int32_t* expert_offsets,
               int32_t* perm_to_assignment, int32_t* assignment_to_perm, void* workspace, size_t workspace_bytes,
               cudaStream_t stream);

// x_perm[r] = x[perm_to_assignment[r] / top_k] for n_tokens * top_k rows of `hidden`.
void moe_gather_rows(const bf16* x, int32_t hidden, const int32_t* perm_to_assignment, int32_t n_tokens,
                     int32_t top_k, bf16* x_perm, cudaStream_t stream);

// out[t] (+)= sum over j in order of topk_weights[t*top_k + j] * y_perm[assignment_to_perm[t*top_k + j]],
// fp32 sum, bf16 store. accumulate=true adds to out (the shared expert's output already there).
void moe_combine(const bf16* y_perm, int32_t hidden, const int32_t* assignment_to_perm, const float* topk_weights,
                 int32_t n_tokens, int32_t top_k, bool accumulate, bf16* out, cudaStream_t stream);

}  // namespace warden::kernels
