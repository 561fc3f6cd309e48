#pragma once
// The backend's GEMMs through cuBLASLt: y[m][n] = x[m][k] · Wᵀ (+ bias), row-major
// activations with explicit row strides, bf16 inputs, fp32 accumulation, bf16 or fp32
// output. The algorithm for a (shape, strides, alignment) is chosen once by cuBLASLt's
// heuristic and cached, so a steady decode loop does no heuristic queries. A shape the
// heuristic has no algorithm for (e.g. a one-row weight at odd strides) and that needs
// no bias epilogue falls back to cublasGemmEx.
#include <cstdint>
#include <map>
#include <tuple>

#include <cublasLt.h>
#include <cublas_v2.h>

#include "device_buffer.hpp"
#include "device_matrix.hpp"

namespace warden::engine::cuda {

class CublasGemm {
 public:
  explicit CublasGemm(cudaStream_t stream);
  ~CublasGemm();
  CublasGemm(const CublasGemm&) = delete;
  CublasGemm& operator=(const CublasGemm&) = delete;

  // bf16 out; `bias` [w.rows] bf16 or null (added in the epilogue, before rounding).
  void bf16_out(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, const bf16* bias, bf16* y, int64_t ldy);
  // fp32 out (LM head logits, MoE router logits).
  void f32_out(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, float* y, int64_t ldy);

  size_t workspace_bytes() const { return workspace_.bytes(); }

 private:
  struct Plan;
  // m, n, k, ldx, ldy, fp32 out, bias, alignment of x, w, y (bytes)
  using Key = std::tuple<int32_t, int32_t, int32_t, int64_t, int64_t, bool, bool, int, int, int>;
  Plan& plan(const Key& key);
  void run(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, const bf16* bias, void* y, int64_t ldy,
           bool f32);

  cudaStream_t stream_;
  cublasLtHandle_t handle_ = nullptr;
  cublasHandle_t fallback_ = nullptr;
  DeviceBuffer workspace_;
  std::map<Key, Plan*> plans_;
};

}  // namespace warden::engine::cuda
