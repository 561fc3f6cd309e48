// RMSNorm (and the fused residual add + RMSNorm): one block per row. The sum of squares
// is fp32 (per-thread partials, warp shuffles, then one value per warp in shared
// memory), as torch reduces a float32 tensor; the result follows HF's rounding order:
// y = bf16(x · rsqrt(mean(x²) + eps)), out = bf16(float(weight) · float(y)).
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/rms_norm.cuh"

namespace warden::kernels {
namespace {

constexpr int kMaxThreads = 512;

// Sum of `v` over the block, returned to every thread. Deterministic: fixed shuffle
// tree, then the warp partials added in warp order.
__device__ float block_sum(float v) {
  __shared__ float partial[kMaxThreads / 32];
  v = warp_sum(v);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0.0f;
  const int warps = blockDim.x / 32;
  for (int w = 0; w < warps; ++w) total += partial[w];
  return total;  // called once per block, so `partial` is never rewritten while read
}

// bf16(x · inv) then times the bf16 weight, rounded again: the two roundings of HF's
// `weight * hidden_states.to(input_dtype)`.
__device__ __forceinline__ bf16 norm_one(float x, float inv, bf16 w) {
  const float y = __bfloat162float(__float2bfloat16(x * inv));
  return __float2bfloat16(__bfloat162float(w) * y);
}

// kVec: rows are read and written 8 bf16 (16 bytes) at a time; the launcher checks
// dim % 8 == 0, the strides and the pointers' 16-byte alignment.
template <bool kVec>
__global__ void rms_norm_kernel(const bf16* x, int64_t x_stride, const bf16* __restrict__ weight, float eps,
                                int32_t dim, bf16* out, int64_t out_stride) {
  // x and out may alias: each element is read (pass 1 and 2) and then written only by
  // the same thread, and pass 2 starts after the block-wide barrier in block_sum.
  const bf16* xr = x + int64_t(blockIdx.x) * x_stride;
  bf16* outr = out + int64_t(blockIdx.x) * out_stride;
  float ss = 0.0f;
  if constexpr (kVec) {
    const int32_t n8 = dim / 8;
    for (int32_t i = threadIdx.x; i < n8; i += blockDim.x) {
      Pack8 p;
      p.u = reinterpret_cast<const uint4*>(xr)[i];
      for (int j = 0; j < 8; ++j) {
        const float f = __bfloat162float(p.h[j]);
        ss += f * f;
      }
    }
  } else {
    for (int32_t i = threadIdx.x; i < dim; i += blockDim.x) {
      const float f = __bfloat162float(xr[i]);
      ss += f * f;
    }
  }
  const float inv = rsqrtf(block_sum(ss) / float(dim) + eps);
  if constexpr (kVec) {
    const int32_t n8 = dim / 8;
    for (int32_t i = threadIdx.x; i < n8; i += blockDim.x) {
      Pack8 p, w, o;
      p.u = reinterpret_cast<const uint4*>(xr)[i];
      w.u = reinterpret_cast<const uint4*>(weight)[i];
      for (int j = 0; j < 8; ++j) o.h[j] = norm_one(__bfloat162float(p.h[j]), inv, w.h[j]);
      reinterpret_cast<uint4*>(outr)[i] = o.u;
    }
  } else {
    for (int32_t i = threadIdx.x; i < dim; i += blockDim.x) outr[i] = norm_one(__bfloat162float(xr[i]), inv, weight[i]);
  }
}

template <bool kVec>
__global__ void add_rms_norm_kernel(const bf16* __restrict__ delta, bf16* __restrict__ residual,
                                    const bf16* __restrict__ weight, float eps, int32_t dim, bf16* __restrict__ out) {
  const int64_t row = int64_t(blockIdx.x) * dim;
  const bf16* dr = delta + row;
  bf16* rr = residual + row;
  bf16* outr = out + row;
  // Pass 1: residual = bf16(residual + delta), and the sum of squares of that rounded
  // value (HF normalises the bf16 hidden state). Pass 2 reads back only the elements
  // this thread wrote, so no barrier beyond block_sum's is needed.
  float ss = 0.0f;
  if constexpr (kVec) {
    const int32_t n8 = dim / 8;
    for (int32_t i = threadIdx.x; i < n8; i += blockDim.x) {
      Pack8 r, d;
      r.u = reinterpret_cast<const uint4*>(rr)[i];
      d.u = reinterpret_cast<const uint4*>(dr)[i];
      for (int j = 0; j < 8; ++j) {
        r.h[j] = __float2bfloat16(__bfloat162float(r.h[j]) + __bfloat162float(d.h[j]));
        const float f = __bfloat162float(r.h[j]);
        ss += f * f;
      }
      reinterpret_cast<uint4*>(rr)[i] = r.u;
    }
  } else {
    for (int32_t i = threadIdx.x; i < dim; i += blockDim.x) {
      const bf16 r = __float2bfloat16(__bfloat162float(rr[i]) + __bfloat162float(dr[i]));
      rr[i] = r;
      const float f = __bfloat162float(r);
      ss += f * f;
    }
  }
  const float inv = rsqrtf(block_sum(ss) / float(dim) + eps);
  if constexpr (kVec) {
    const int32_t n8 = dim / 8;
    for (int32_t i = threadIdx.x; i < n8; i += blockDim.x) {
      Pack8 r, w, o;
      r.u = reinterpret_cast<const uint4*>(rr)[i];
      w.u = reinterpret_cast<const uint4*>(weight)[i];
      for (int j = 0; j < 8; ++j) o.h[j] = norm_one(__bfloat162float(r.h[j]), inv, w.h[j]);
      reinterpret_cast<uint4*>(outr)[i] = o.u;
    }
  } else {
    for (int32_t i = threadIdx.x; i < dim; i += blockDim.x) outr[i] = norm_one(__bfloat162float(rr[i]), inv, weight[i]);
  }
}


// Enough warps for one pass over the row's units (8-element vectors or elements).
int threads_for(int32_t units) {
  int t = (units + 31) / 32 * 32;
  return t < 32 ? 32 : (t > kMaxThreads ? kMaxThreads : t);
}

}  // namespace

void rms_norm(const bf16* x, int64_t x_stride, const bf16* weight, float eps, int32_t rows, int32_t dim, bf16* out,
              int64_t out_stride, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const bool vec = dim % 8 == 0 && x_stride % 8 == 0 && out_stride % 8 == 0 && aligned16(x) && aligned16(out) &&
                   aligned16(weight);
  if (vec) {
    rms_norm_kernel<true><<<rows, threads_for(dim / 8), 0, stream>>>(x, x_stride, weight, eps, dim, out, out_stride);
  } else {
    rms_norm_kernel<false><<<rows, threads_for(dim), 0, stream>>>(x, x_stride, weight, eps, dim, out, out_stride);
  }
}

void add_rms_norm(const bf16* delta, bf16* residual, const bf16* weight, float eps, int32_t rows, int32_t dim,
                  bf16* out, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const bool vec = dim % 8 == 0 && aligned16(delta) && aligned16(residual) && aligned16(weight) && aligned16(out);
  if (vec) {
    add_rms_norm_kernel<true><<<rows, threads_for(dim / 8), 0, stream>>>(delta, residual, weight, eps, dim, out);
  } else {
    add_rms_norm_kernel<false><<<rows, threads_for(dim), 0, stream>>>(delta, residual, weight, eps, dim, out);
  }
}

}  // namespace warden::kernels
