#pragma once
// Writes safetensors files (used by `warden model make-tiny` and tests). Tensors are
// declared up front with a fill callback so that a multi-GB model is produced one
// tensor at a time instead of being held in memory.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "warden/engine/weights/dtype.hpp"

namespace warden::engine {

struct TensorSpec {
  std::string name;
  DType dtype = DType::BF16;  // stored type: F32, BF16, F16 or F8_E4M3
  std::vector<int64_t> shape;
  std::function<void(float* dst, size_t count)> fill;  // fp32 values, converted on write
};

// Writes one file. The header is padded with spaces to a multiple of 8 bytes so
// that every tensor's data is 8-byte aligned, as the Python writer does.
void write_safetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {{"format", "pt"}});

// Writes `dir`/model.safetensors, or, when the tensors exceed max_shard_bytes (> 0),
// model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json.
void write_safetensors_model(const std::string& dir, const std::vector<TensorSpec>& tensors,
                             size_t max_shard_bytes = 0);

}  // namespace warden::engine
