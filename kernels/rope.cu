// Rotary position embedding in place: one block per token, one warp per head (q heads
// first, then k heads). Math in fp32 from the host-built cos/sin table, one rounding to
// bf16 per output element.
#include "kernels/rope.cuh"

namespace warden::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;

// Rotates one head's rotated part `x` (rot_dim elements) in place.
// Rotate-half: lane i owns the pair (x[i], x[i + half]) for both reading and writing,
// so no other lane touches its elements. Interleaved (DeepSeek MLA): the pair
// (x[2i], x[2i+1]) is written to (x[i], x[i + half]), positions other lanes still have
// to read — so the warp first copies the head to shared memory (`stage`, rot_dim
// floats), then every lane computes from the copy.
__device__ void rotate_head(bf16* x, const float* cos_v, const float* sin_v, int32_t half, bool interleaved,
                            float* stage) {
  const int lane = threadIdx.x % 32;
  if (!interleaved) {
    for (int32_t i = lane; i < half; i += 32) {
      const float a = __bfloat162float(x[i]), b = __bfloat162float(x[i + half]);
      const float c = cos_v[i], s = sin_v[i];
      x[i] = __float2bfloat16(a * c - b * s);
      x[i + half] = __float2bfloat16(b * c + a * s);
    }
    return;
  }
  for (int32_t j = lane; j < 2 * half; j += 32) stage[j] = __bfloat162float(x[j]);
  __syncwarp();
  for (int32_t i = lane; i < half; i += 32) {
    const float a = stage[2 * i], b = stage[2 * i + 1];
    const float c = cos_v[i], s = sin_v[i];
    x[i] = __float2bfloat16(a * c - b * s);
    x[i + half] = __float2bfloat16(b * c + a * s);
  }
  __syncwarp();  // the stage is rewritten for this warp's next head
}

__global__ void rope_kernel(RopeTarget q, RopeTarget k, const int32_t* __restrict__ positions,
                            const float* __restrict__ cos_sin, int32_t rot_dim, bool interleaved) {
  extern __shared__ float stage_all[];  // kWarps × rot_dim floats, only when interleaved
  const int64_t t = blockIdx.x;
  const int32_t half = rot_dim / 2;
  const float* cos_v = cos_sin + int64_t(positions[t]) * rot_dim;
  const float* sin_v = cos_v + half;
  const int warp = threadIdx.x / 32;
  float* stage = interleaved ? stage_all + warp * rot_dim : nullptr;
  const int32_t kh = k.data ? k.num_heads : 0;
  // A head is handled by one whole warp, so the warp-level syncs inside see all 32 lanes.
  for (int32_t h = warp; h < q.num_heads + kh; h += kWarps) {
    bf16* x = h < q.num_heads ? q.data + t * q.token_stride + int64_t(h) * q.head_stride + q.rot_offset
                              : k.data + t * k.token_stride + int64_t(h - q.num_heads) * k.head_stride + k.rot_offset;
    rotate_head(x, cos_v, sin_v, half, interleaved, stage);
  }
}

}  // namespace

void rope(RopeTarget q, RopeTarget k, const int32_t* positions, int32_t n_tokens, const float* cos_sin,
          int32_t rot_dim, bool interleaved, cudaStream_t stream) {
  if (n_tokens <= 0 || rot_dim < 2) return;
  if (!q.data) q.num_heads = 0;
  const size_t shared = interleaved ? size_t(kWarps) * size_t(rot_dim) * sizeof(float) : 0;
  rope_kernel<<<n_tokens, kThreads, shared, stream>>>(q, k, positions, cos_sin, rot_dim, interleaved);
}

}  // namespace warden::kernels
