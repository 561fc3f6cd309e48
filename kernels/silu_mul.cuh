#pragma once
// SwiGLU activation on the fused gate+up projection:
//   gate_up: [rows][2 * width] (gate in the first half, up in the second)
//   out:     [rows][width],   out = bf16(silu(float(gate)) * float(up))
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

void silu_mul(const bf16* gate_up, int32_t rows, int32_t width, bf16* out, cudaStream_t stream);

}  // namespace warden::kernels
