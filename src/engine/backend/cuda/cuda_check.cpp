#include "cuda_check.hpp"

#include <cstring>

namespace warden::engine::cuda {

namespace {

const char* base_name(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}

std::string where(const char* file, int line) { return std::string(base_name(file)) + ":" + std::to_string(line); }

const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

}  // namespace

bool is_sticky(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorUnknown:
      return true;
    default:
      return false;
  }
}

void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  // A failed runtime call also records its error as the thread's "last error": left
  // there, a non-sticky one (an out-of-memory cudaMalloc) would come back from the next
  // step's cudaGetLastError and fail it as a "kernel launch" error. Clear it; a sticky
  // error cannot be cleared and needs not be.
  if (!is_sticky(err)) (void)cudaGetLastError();
  throw CudaError(where(file, line) + ": " + expr + " failed: " + cudaGetErrorName(err) + " (" +
                      cudaGetErrorString(err) + ")",
                  is_sticky(err));
}

void throw_cublas(cublasStatus_t status, const char* expr, const char* file, int line) {
  // cuBLAS reports a poisoned context as EXECUTION_FAILED; the runtime knows whether
  // the context is gone (peek does not clear a sticky error).
  const cudaError_t rt = cudaPeekAtLastError();
  std::string msg = where(file, line) + ": " + expr + " failed: " + cublas_status_name(status);
  if (rt != cudaSuccess) msg += std::string(" (CUDA: ") + cudaGetErrorName(rt) + ")";
  if (rt != cudaSuccess && !is_sticky(rt)) (void)cudaGetLastError();  // as in throw_cuda
  throw CudaError(msg, is_sticky(rt));
}

void throw_nccl(int result, const char* message, const char* expr, const char* file, int line) {
  throw CudaError(where(file, line) + ": " + expr + " failed: NCCL error " + std::to_string(result) + " (" +
                      (message ? message : "") + ")",
                  false);
}

}  // namespace warden::engine::cuda
