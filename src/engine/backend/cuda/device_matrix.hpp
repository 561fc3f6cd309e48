#pragma once
// A weight matrix on the device, row-major [rows = out_features][cols = in_features]
// bf16, as nn.Linear stores it (cuBLAS sees it as column-major cols × rows).
#include <cstdint>

#include "kernels/kernel_types.cuh"

namespace warden::engine::cuda {

using kernels::bf16;

struct DeviceMatrix {
  const bf16* data = nullptr;
  int32_t rows = 0;
  int32_t cols = 0;
  explicit operator bool() const { return data != nullptr; }
};

}  // namespace warden::engine::cuda
