// The NCCL path at tp = 1 on a real GPU: a group of one communicator, fp32 and bf16
// all-reduce in place and all-gather, on a non-default stream. Compiled only when the
// build has NCCL; on a machine without a CUDA device the test says so and skips (the
// CPU sharding math is proven by tensor_parallel_test.cpp with simulated ranks).
#include <catch2/catch.hpp>

#if defined(WARDEN_HAVE_NCCL)

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "warden/engine/parallel/nccl_communicator.hpp"

using namespace warden::engine::parallel;

namespace {

bool have_device() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void ok(cudaError_t e) { REQUIRE(e == cudaSuccess); }

}  // namespace

TEST_CASE("nccl communicator: tp 1 group on cuda:0", "[parallel][gpu]") {
  if (!have_device()) {
    WARN("skipped: no CUDA device on this machine");
    return;
  }
  auto group = NcclCommunicator::create_group({0});
  REQUIRE(group.size() == 1);
  NcclCommunicator& c = *group[0];
  CHECK(c.rank() == 0);
  CHECK(c.world() == 1);
  ok(cudaSetDevice(0));
  cudaStream_t stream;
  ok(cudaStreamCreate(&stream));
  c.set_stream(stream);

  const size_t n = 1000;
  std::vector<float> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = float(i) * 0.37f - 100.0f;
  float *d = nullptr, *gathered = nullptr;
  ok(cudaMalloc(reinterpret_cast<void**>(&d), n * sizeof(float)));
  ok(cudaMalloc(reinterpret_cast<void**>(&gathered), n * sizeof(float)));
  ok(cudaMemcpyAsync(d, host.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream));
  c.all_reduce_sum(d, n);  // a sum over one rank: unchanged, bit for bit
  c.all_gather(d, n, gathered);
  std::vector<float> back(n), back_gathered(n);
  ok(cudaMemcpyAsync(back.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, stream));
  ok(cudaMemcpyAsync(back_gathered.data(), gathered, n * sizeof(float), cudaMemcpyDeviceToHost, stream));
  ok(cudaStreamSynchronize(stream));
  CHECK(std::memcmp(back.data(), host.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(back_gathered.data(), host.data(), n * sizeof(float)) == 0);

  std::vector<uint16_t> bf(n), bf_back(n);
  for (size_t i = 0; i < n; ++i) bf[i] = uint16_t(0x3f80 + (i % 64));  // 1.0 .. 1.49 in bf16
  void* dbf = nullptr;
  ok(cudaMalloc(&dbf, n * sizeof(uint16_t)));
  ok(cudaMemcpyAsync(dbf, bf.data(), n * sizeof(uint16_t), cudaMemcpyHostToDevice, stream));
  c.all_reduce_sum_bf16(dbf, n);
  ok(cudaMemcpyAsync(bf_back.data(), dbf, n * sizeof(uint16_t), cudaMemcpyDeviceToHost, stream));
  ok(cudaStreamSynchronize(stream));
  CHECK(bf_back == bf);

  ok(cudaFree(d));
  ok(cudaFree(gathered));
  ok(cudaFree(dbf));
  ok(cudaStreamDestroy(stream));
}

#endif  // WARDEN_HAVE_NCCL
