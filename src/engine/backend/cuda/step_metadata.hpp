#pragma once
// Everything a step needs besides the weights and the KV pool, planned on the host and
// sent in ONE cudaMemcpyAsync: the batch's rows are reordered so that the decode slices
// (one new token) come first, one row each, and the prefill chunks follow, so the two
// attention kernels each see one contiguous run of rows.
//
// Packed int32 arrays (each 16-byte aligned) in one pinned buffer, mirrored on the device:
//   tokens, positions, slots [rows]; decode block tables [n_decode][decode_max_blocks],
//   decode context lens [n_decode]; prefill block tables, context lens, q_starts
//   [n_prefill + 1]; logit rows [n_logits] (the row of each need_logits slice's last
//   token, in slice order); then SamplingRow [n_logits] when sampling on the device.
//
// The batch is checked on the host first (token ids, block ids, table lengths, rope
// positions): a bad index must become an exception here, not an illegal address there.
#include <cstdint>
#include <vector>

#include "device_buffer.hpp"
#include "kernels/paged_attention.cuh"
#include "kernels/sampling.cuh"
#include "warden/engine/backend.hpp"

namespace warden::engine::cuda {

struct StepLimits {
  int32_t vocab = 0;
  int32_t block_tokens = 0;
  int32_t num_blocks = 0;
  int64_t max_positions = 0;  // rows of the rope table
};

class StepMetadata {
 public:
  // Plans and uploads. `sampling` may be null (logits go to the host). The pinned
  // buffer is rewritten, so the previous step's copy must be complete: every backend
  // call ends with a stream sync, on success (forward, forward_sample) and on an
  // exception (CudaBackend::guarded drains the stream).
  void build(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling, const StepLimits& limits,
             cudaStream_t stream);

  // Host-side facts of the plan.
  int32_t rows = 0;
  int32_t n_decode = 0, decode_max_blocks = 0, decode_max_context = 0;
  // How decode attention cuts this step's work, planned once for all layers (the
  // backend sets it after build(): it needs the KV layout and the heads).
  kernels::DecodeAttentionPlan decode_plan;
  int32_t n_prefill = 0, prefill_max_blocks = 0, prefill_max_context = 0, max_q_len = 0;
  int32_t prefill_row0 = 0;  // == n_decode
  int32_t n_logits = 0;

  // Device pointers into one buffer, valid until the next build().
  const int32_t* tokens = nullptr;
  const int32_t* positions = nullptr;
  const int32_t* slots = nullptr;
  const int32_t* decode_tables = nullptr;
  const int32_t* decode_context = nullptr;
  const int32_t* prefill_tables = nullptr;
  const int32_t* prefill_context = nullptr;
  const int32_t* q_starts = nullptr;
  const int32_t* logit_rows = nullptr;
  const kernels::SamplingRow* sampling_rows = nullptr;  // null unless sampling on the device

 private:
  void check(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling, const StepLimits& limits) const;

  PinnedBuffer host_;
  DeviceBuffer device_;
  std::vector<int32_t> row_start_;  // per slice
};

}  // namespace warden::engine::cuda
