#pragma once
// One CHECK family for the CUDA runtime, cuBLAS(Lt) and NCCL. A failed call throws
// CudaError (a std::runtime_error) naming the call site, the API and its error string.
// `sticky()` is true for errors that poison the CUDA context (an illegal address, a
// failed launch, an assert in a kernel): every later call on that context fails too,
// so the backend reports itself unhealthy instead of retrying the device.
#include <stdexcept>
#include <string>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace warden::engine::cuda {

class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& what, bool sticky) : std::runtime_error(what), sticky_(sticky) {}
  bool sticky() const { return sticky_; }

 private:
  bool sticky_;
};

// True for the runtime errors after which the context is unusable.
bool is_sticky(cudaError_t err);

[[noreturn]] void throw_cuda(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas(cublasStatus_t status, const char* expr, const char* file, int line);
// NCCL (ncclResult_t is an int-sized enum): the string comes from ncclGetErrorString
// at the call site, so this file does not need nccl.h.
[[noreturn]] void throw_nccl(int result, const char* message, const char* expr, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda(err, expr, file, line);
}
inline void check_cublas(cublasStatus_t status, const char* expr, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas(status, expr, file, line);
}

}  // namespace warden::engine::cuda

#define WARDEN_CUDA_CHECK(expr) ::warden::engine::cuda::check_cuda((expr), #expr, __FILE__, __LINE__)
#define WARDEN_CUBLAS_CHECK(expr) ::warden::engine::cuda::check_cublas((expr), #expr, __FILE__, __LINE__)
// After kernel launches: a bad launch configuration shows up here, not at the launch.
#define WARDEN_CUDA_CHECK_LAUNCH() ::warden::engine::cuda::check_cuda(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
// Needs <nccl.h> at the use site.
#define WARDEN_NCCL_CHECK(expr)                                                                                 \
  do {                                                                                                          \
    const ncclResult_t warden_nccl_result_ = (expr);                                                            \
    if (warden_nccl_result_ != ncclSuccess)                                                                     \
      ::warden::engine::cuda::throw_nccl(int(warden_nccl_result_), ncclGetErrorString(warden_nccl_result_), #expr, \
                                         __FILE__, __LINE__);                                                   \
  } while (0)
