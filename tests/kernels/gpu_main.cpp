// Catch2 main for the [gpu] suite: without a CUDA device nothing here can run, so the
// executable says so and exits 77, which ctest reports as "skipped" (not "passed").
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cuda_runtime_api.h>

#include <cstdio>

int main(int argc, char** argv) {
  int devices = 0;
  cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("no CUDA device (%s): the [gpu] tests did not run\n",
                err == cudaSuccess ? "0 devices" : cudaGetErrorString(err));
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
