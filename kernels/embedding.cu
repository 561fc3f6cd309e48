// Embedding gather: one block per token, 16-byte vector copies when the row allows.
#include "kernels/embedding.cuh"

namespace warden::kernels {
namespace {

__global__ void embedding_gather_kernel(const bf16* __restrict__ table, int32_t vocab, int32_t hidden,
                                        const int32_t* __restrict__ ids, bf16* __restrict__ out) {
  const int64_t t = blockIdx.x;
  const int32_t id = ids[t];
  bf16* dst = out + t * hidden;
  if (id < 0 || id >= vocab) {
    for (int32_t i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = __float2bfloat16(0.0f);
    return;
  }
  const bf16* src = table + int64_t(id) * hidden;
  if (hidden % 8 == 0) {  // rows are 16-byte aligned: copy 8 bf16 at a time
    const auto* s4 = reinterpret_cast<const uint4*>(src);
    auto* d4 = reinterpret_cast<uint4*>(dst);
    for (int32_t i = threadIdx.x; i < hidden / 8; i += blockDim.x) d4[i] = s4[i];
  } else {
    for (int32_t i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = src[i];
  }
}

}  // namespace

void embedding_gather(const bf16* table, int32_t vocab, int32_t hidden, const int32_t* ids, int32_t n_tokens,
                      bf16* out, cudaStream_t stream) {
  if (n_tokens <= 0) return;
  embedding_gather_kernel<<<n_tokens, 128, 0, stream>>>(table, vocab, hidden, ids, out);
}

}  // namespace warden::kernels
