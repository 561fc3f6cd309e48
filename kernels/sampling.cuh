#pragma once
// Token sampling on the device, so only the chosen ids come back to the host.
// Per row: temperature <= 1e-5 → greedy (argmax, lowest id on ties); otherwise
// softmax(logits / temperature) restricted to the top_k most likely tokens (top_k <= 0:
// all) and then to the smallest set whose mass reaches top_p, sampled with one uniform
// number drawn from a counter-based generator keyed by (seed, step) — the same seed and
// step give the same token whatever else is in the batch.
#include <cstddef>

#include "kernels/kernel_types.cuh"

namespace warden::kernels {

struct SamplingRow {
  float temperature = 0.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  uint64_t seed = 0;
  uint64_t step = 0;  // tokens generated so far by this sequence
};

size_t sample_workspace_bytes(int32_t rows, int32_t vocab);
// logits: [rows][vocab] fp32; params, out_ids: [rows] (device).
void sample_tokens(const float* logits, int32_t rows, int32_t vocab, const SamplingRow* params, int32_t* out_ids,
                   void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace warden::kernels
