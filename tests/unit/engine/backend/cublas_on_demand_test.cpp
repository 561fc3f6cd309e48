// cuBLAS is dlopen'ed by the CUDA backend's first GEMM handle, not linked (see
// src/engine/backend/cuda/cublas_on_demand.cpp). Without a GPU the call still goes
// through: the library is loaded, the forwarded function runs and answers a status.
#ifdef WARDEN_HAVE_CUDA
#include <catch2/catch.hpp>
#include <cublasLt.h>
#include <cublas_v2.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string own_maps() {
  std::ifstream f("/proc/self/maps");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("cuBLAS on demand: the first call loads the libraries and forwards to them", "[cuda]") {
  cublasLtHandle_t lt = nullptr;
  const cublasStatus_t lt_status = cublasLtCreate(&lt);
  cublasHandle_t blas = nullptr;
  const cublasStatus_t blas_status = cublasCreate(&blas);
  const std::string maps = own_maps();
  CHECK(maps.find("libcublasLt.so") != std::string::npos);
  CHECK(maps.find("libcublas.so") != std::string::npos);
  // With a device both succeed; without one cuBLAS itself says so (not a crash, not a
  // missing symbol — those would throw or fail to link).
  if (lt_status == CUBLAS_STATUS_SUCCESS) CHECK(cublasLtDestroy(lt) == CUBLAS_STATUS_SUCCESS);
  if (blas_status == CUBLAS_STATUS_SUCCESS) CHECK(cublasDestroy(blas) == CUBLAS_STATUS_SUCCESS);
  INFO("cublasLtCreate: " << int(lt_status) << ", cublasCreate: " << int(blas_status));
  CHECK((lt_status == CUBLAS_STATUS_SUCCESS) == (blas_status == CUBLAS_STATUS_SUCCESS));
}
#endif
