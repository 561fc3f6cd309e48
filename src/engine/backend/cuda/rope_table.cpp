#include "rope_table.hpp"

#include <vector>

#include "cuda_check.hpp"
#include "warden/engine/backend/cpu/rotary.hpp"

namespace warden::engine::cuda {

void RopeTable::build(const ModelConfig& config, int64_t positions) {
  const cpu::Rotary rotary(config);
  const int32_t half = rotary.half();
  rot_dim_ = 2 * half;
  std::vector<float> host(size_t(positions) * size_t(rot_dim_));
  for (int64_t pos = 0; pos < positions; ++pos) {
    float* row = host.data() + pos * rot_dim_;
    rotary.angles(pos, row, row + half);
  }
  table_.reset();
  positions_ = 0;
  table_.ensure(host.size() * sizeof(float));
  WARDEN_CUDA_CHECK(cudaMemcpy(table_.get(), host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  // A cudaMemcpy from pageable memory may return before its DMA lands, and it runs on
  // the legacy default stream, which the backend's non-blocking stream does not wait
  // for: finish it before any kernel can read the table.
  WARDEN_CUDA_CHECK(cudaDeviceSynchronize());
  positions_ = positions;
}

}  // namespace warden::engine::cuda
