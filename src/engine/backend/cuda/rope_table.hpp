#pragma once
// The cos/sin table the rope kernel reads, built once on the host from the CPU
// backend's Rotary (same inv_freq, Llama-3 scaling, yarn and mscale, angles in double)
// and uploaded: cos_sin[pos * rot_dim + i] = cos, [pos * rot_dim + rot_dim/2 + i] = sin.
#include <cstdint>

#include "device_buffer.hpp"
#include "warden/engine/model/model_config.hpp"

namespace warden::engine::cuda {

class RopeTable {
 public:
  RopeTable() = default;
  // Covers positions [0, positions).
  void build(const ModelConfig& config, int64_t positions);

  const float* data() const { return table_.as<const float>(); }
  int64_t positions() const { return positions_; }
  int32_t rot_dim() const { return rot_dim_; }

 private:
  DeviceBuffer table_;
  int64_t positions_ = 0;
  int32_t rot_dim_ = 0;
};

}  // namespace warden::engine::cuda
