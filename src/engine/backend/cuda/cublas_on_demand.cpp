// cuBLAS and cuBLASLt loaded on first use instead of linked. Merely loading
// libcublasLt.so costs ~150 MB of resident memory (its relocations; measured: a program
// that links it idles at 154 MB vs 3 MB without), which every warden — most of them
// gateways with no local engine or no GPU — would pay at start. So warden defines the
// few cuBLAS entry points it calls (signatures checked by the real headers: a mismatch
// is a compile error) and forwards each to the symbol dlsym'd from the library the first
// time the CUDA backend makes a GEMM handle. A missing library is a CudaError naming
// it, which fails the backend's load like any other device error.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "cuda_check.hpp"

namespace warden::engine::cuda {

namespace {

#define WARDEN_STR2(x) #x
#define WARDEN_STR(x) WARDEN_STR2(x)
constexpr const char* kSuffix = ".so." WARDEN_STR(CUBLAS_VER_MAJOR);

// Opens lib<name>.so.<major>: the loader's search path first, then the toolkit folder
// this warden was built against (the same machine for the GPU hosts' own builds).
void* open_library(const std::string& name) {
  const std::string file = "lib" + name + kSuffix;
  if (void* h = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  std::string why = ::dlerror();
#ifdef WARDEN_CUDA_LIBRARY_DIR
  const std::string fallback = std::string(WARDEN_CUDA_LIBRARY_DIR) + "/" + file;
  if (void* h = ::dlopen(fallback.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  why += "; " + std::string(::dlerror());
#endif
  throw CudaError("cannot load " + file + " (the CUDA backend needs cuBLAS): " + why, false);
}

struct Libraries {
  void* blas = nullptr;
  void* lt = nullptr;
};

const Libraries& libraries() {
  static Libraries libs;
  static std::once_flag once;
  std::call_once(once, [] {  // a throw leaves the flag unset: the next backend load retries
    Libraries l;
    l.lt = open_library("cublasLt");
    l.blas = open_library("cublas");
    libs = l;
  });
  return libs;
}

template <class Fn>
Fn resolve(void* lib, const char* name) {
  void* sym = ::dlsym(lib, name);
  if (!sym) throw CudaError(std::string("cuBLAS has no symbol ") + name, false);
  return reinterpret_cast<Fn>(sym);
}

}  // namespace

}  // namespace warden::engine::cuda

// One forwarder per entry point: `real` is resolved once. Its parameter list is the
// definition's own, and the definition must match the header's extern "C" declaration
// (two C functions of one name cannot differ), so the compiler checks every signature.
#define WARDEN_FORWARD(lib, name, params, args)                                                      \
  extern "C" cublasStatus_t CUBLASWINAPI name params {                                               \
    using namespace warden::engine::cuda;                                                            \
    using Fn = cublasStatus_t(CUBLASWINAPI*) params;                                                 \
    static const auto real = resolve<Fn>(libraries().lib, #name);                                    \
    return real args;                                                                                \
  }

WARDEN_FORWARD(lt, cublasLtCreate, (cublasLtHandle_t * h), (h))
WARDEN_FORWARD(lt, cublasLtDestroy, (cublasLtHandle_t h), (h))
WARDEN_FORWARD(lt, cublasLtMatmulDescCreate, (cublasLtMatmulDesc_t * d, cublasComputeType_t c, cudaDataType_t s),
               (d, c, s))
WARDEN_FORWARD(lt, cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t d), (d))
WARDEN_FORWARD(lt, cublasLtMatmulDescSetAttribute,
               (cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void* buf, size_t n), (d, a, buf, n))
WARDEN_FORWARD(lt, cublasLtMatrixLayoutCreate,
               (cublasLtMatrixLayout_t * l, cudaDataType t, uint64_t rows, uint64_t cols, int64_t ld),
               (l, t, rows, cols, ld))
WARDEN_FORWARD(lt, cublasLtMatrixLayoutDestroy, (cublasLtMatrixLayout_t l), (l))
WARDEN_FORWARD(lt, cublasLtMatmulPreferenceCreate, (cublasLtMatmulPreference_t * p), (p))
WARDEN_FORWARD(lt, cublasLtMatmulPreferenceDestroy, (cublasLtMatmulPreference_t p), (p))
WARDEN_FORWARD(lt, cublasLtMatmulPreferenceSetAttribute,
               (cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t a, const void* buf, size_t n),
               (p, a, buf, n))
WARDEN_FORWARD(lt, cublasLtMatmulAlgoGetHeuristic,
               (cublasLtHandle_t h, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d, cublasLtMatmulPreference_t pref, int requested,
                cublasLtMatmulHeuristicResult_t results[], int* found),
               (h, op, a, b, c, d, pref, requested, results, found))
WARDEN_FORWARD(lt, cublasLtMatmul,
               (cublasLtHandle_t h, cublasLtMatmulDesc_t op, const void* alpha, const void* A,
                cublasLtMatrixLayout_t ad, const void* B, cublasLtMatrixLayout_t bd, const void* beta, const void* C,
                cublasLtMatrixLayout_t cd, void* D, cublasLtMatrixLayout_t dd, const cublasLtMatmulAlgo_t* algo,
                void* ws, size_t ws_bytes, cudaStream_t stream),
               (h, op, alpha, A, ad, B, bd, beta, C, cd, D, dd, algo, ws, ws_bytes, stream))
WARDEN_FORWARD(blas, cublasCreate_v2, (cublasHandle_t * h), (h))
WARDEN_FORWARD(blas, cublasDestroy_v2, (cublasHandle_t h), (h))
WARDEN_FORWARD(blas, cublasSetStream_v2, (cublasHandle_t h, cudaStream_t s), (h, s))
WARDEN_FORWARD(blas, cublasGemmEx,
               (cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void* alpha,
                const void* A, cudaDataType at, int lda, const void* B, cudaDataType bt, int ldb, const void* beta,
                void* C, cudaDataType ct, int ldc, cublasComputeType_t compute, cublasGemmAlgo_t algo),
               (h, ta, tb, m, n, k, alpha, A, at, lda, B, bt, ldb, beta, C, ct, ldc, compute, algo))
