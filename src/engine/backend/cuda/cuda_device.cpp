#include "cuda_device.hpp"

#include <cstdio>

#include <cuda_runtime_api.h>

#include "cuda_backend.hpp"

namespace warden::engine::cuda {

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    (void)cudaGetLastError();  // not sticky: clear it so later calls are not confused
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device";
  return n;
}

std::string device_summary(int device) {
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "cuda:" + std::to_string(device);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s, %.1f GiB, sm_%d%d", prop.name, double(prop.totalGlobalMem) / double(1ull << 30),
                prop.major, prop.minor);
  return buf;
}

std::unique_ptr<Backend> make_cuda_backend(const std::string& model_dir, int device) {
  return std::make_unique<CudaBackend>(model_dir, device);
}

}  // namespace warden::engine::cuda
