#include "cublas_gemm.hpp"

#include <string>

#include "cuda_check.hpp"

namespace warden::engine::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // what cuBLAS recommends for Hopper

// Largest power of two (<= 256) dividing the address: cuBLASLt kernels pick vector
// widths by it, so an algorithm chosen for aligned pointers must not see unaligned ones.
int alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  int align = 256;
  while (align > 1 && a % uintptr_t(align) != 0) align /= 2;
  return align;
}

}  // namespace

struct CublasGemm::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool gemm_ex = false;  // no cuBLASLt algorithm: cublasGemmEx instead
  ~Plan() {
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

CublasGemm::CublasGemm(cudaStream_t stream) : stream_(stream) {
  try {
    WARDEN_CUBLAS_CHECK(cublasLtCreate(&handle_));
    WARDEN_CUBLAS_CHECK(cublasCreate(&fallback_));
    WARDEN_CUBLAS_CHECK(cublasSetStream(fallback_, stream_));
    workspace_.ensure(kWorkspaceBytes);
  } catch (...) {  // no destructor runs for a constructor that throws: free the handles here
    if (fallback_) cublasDestroy(fallback_);
    if (handle_) cublasLtDestroy(handle_);
    throw;
  }
}

CublasGemm::~CublasGemm() {
  for (auto& [key, p] : plans_) delete p;
  if (fallback_) cublasDestroy(fallback_);
  if (handle_) cublasLtDestroy(handle_);
}

CublasGemm::Plan& CublasGemm::plan(const Key& key) {
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
  const auto [m, n, k, ldx, ldy, f32, bias, align_x, align_w, align_y] = key;
  auto* p = new Plan;
  try {
    WARDEN_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    // Column-major view: D (n × m, ld ldy) = op(A) · B with A = W stored k × n (ld k)
    // transposed, B = x stored k × m (ld ldx).
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    WARDEN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    WARDEN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    if (bias) {
      const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
      const cudaDataType_t bias_type = CUDA_R_16BF;
      WARDEN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
      WARDEN_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type));
    }
    const cudaDataType_t out_type = f32 ? CUDA_R_32F : CUDA_R_16BF;
    WARDEN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, uint64_t(k), uint64_t(n), int64_t(k)));
    WARDEN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, uint64_t(k), uint64_t(m), ldx));
    WARDEN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->d, out_type, uint64_t(n), uint64_t(m), ldy));

    cublasLtMatmulPreference_t pref = nullptr;
    WARDEN_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const uint64_t ws = workspace_.bytes();
    const uint32_t aa = uint32_t(align_w), ab = uint32_t(align_x), ad = uint32_t(align_y);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa, sizeof aa);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab, sizeof ab);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ad, sizeof ad);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ad, sizeof ad);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(handle_, p->op, p->a, p->b, p->d, p->d, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_NOT_SUPPORTED) WARDEN_CUBLAS_CHECK(st);
    if ((st != CUBLAS_STATUS_SUCCESS || found == 0) && !bias) {
      p->gemm_ex = true;
    } else if (found == 0) {
      throw CudaError("cuBLASLt has no algorithm for a " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                          std::to_string(k) + (f32 ? " fp32-out" : " bf16-out") + " GEMM",
                      false);
    } else {
      p->algo = result.algo;
    }
  } catch (...) {
    delete p;
    throw;
  }
  plans_.emplace(key, p);
  return *p;
}

void CublasGemm::run(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, const bf16* bias, void* y,
                     int64_t ldy, bool f32) {
  if (m <= 0) return;
  const Key key{m, w.rows, w.cols, ldx, ldy, f32, bias != nullptr, alignment_of(x), alignment_of(w.data),
                alignment_of(y)};
  Plan& p = plan(key);
  const float alpha = 1.0f, beta = 0.0f;
  if (p.gemm_ex) {
    WARDEN_CUBLAS_CHECK(cublasGemmEx(fallback_, CUBLAS_OP_T, CUBLAS_OP_N, w.rows, m, w.cols, &alpha, w.data,
                                     CUDA_R_16BF, w.cols, x, CUDA_R_16BF, int(ldx), &beta, y,
                                     f32 ? CUDA_R_32F : CUDA_R_16BF, int(ldy), CUBLAS_COMPUTE_32F,
                                     CUBLAS_GEMM_DEFAULT));
    return;
  }
  if (bias)
    WARDEN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  WARDEN_CUBLAS_CHECK(cublasLtMatmul(handle_, p.op, &alpha, w.data, p.a, x, p.b, &beta, y, p.d, y, p.d, &p.algo,
                                     workspace_.get(), workspace_.bytes(), stream_));
}

void CublasGemm::bf16_out(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, const bf16* bias, bf16* y,
                          int64_t ldy) {
  run(x, ldx, m, w, bias, y, ldy, false);
}

void CublasGemm::f32_out(const bf16* x, int64_t ldx, int32_t m, const DeviceMatrix& w, float* y, int64_t ldy) {
  run(x, ldx, m, w, nullptr, y, ldy, true);
}

}  // namespace warden::engine::cuda
