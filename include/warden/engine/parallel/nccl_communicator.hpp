#pragma once
// The Communicator over NCCL, one per GPU (src/engine/backend/cuda/nccl_communicator.cpp,
// built when CMake finds libnccl with WARDEN_CUDA: WARDEN_HAVE_NCCL). No CUDA types in
// this header: a stream is passed as void* (cudaStream_t).
//
// Pointers are device pointers on device(). Calls are enqueued on the communicator's
// stream and complete in stream order (kernels queued after them on that stream see the
// result); they return before the data is there. Every rank must make the same calls in
// the same order, each from its own thread (one thread per device).
#include <cstdint>
#include <memory>
#include <vector>

#include "warden/engine/parallel/communicator.hpp"

namespace warden::engine::parallel {

class NcclCommunicator final : public Communicator {
 public:
  // One communicator per entry of `devices` (rank r on devices[r]), created together in
  // this process (ncclCommInitAll), so a single-node group needs no id exchange.
  // {0} gives the tp = 1 group: its collectives are local copies. Throws on NCCL errors.
  static std::vector<std::unique_ptr<NcclCommunicator>> create_group(const std::vector<int>& devices);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int32_t rank() const override { return rank_; }
  int32_t world() const override { return world_; }
  int device() const { return device_; }
  // The stream the collectives are enqueued on (default: the legacy default stream).
  void set_stream(void* cuda_stream) { stream_ = cuda_stream; }

  void all_reduce_sum(float* data, size_t n) override;  // in place
  void all_gather(const float* in, size_t n, float* out) override;
  // bf16 activations (the CUDA backend's dtype), summed in place. NCCL adds bf16 in
  // fp32 inside its reduction kernels but the result is rounded to bf16.
  void all_reduce_sum_bf16(void* data, size_t n);
  // ncclCommAbort: makes collectives stuck waiting for a failed rank return. The
  // communicator is unusable afterwards (a new group must be created).
  void abort();

 private:
  NcclCommunicator(void* comm, int32_t rank, int32_t world, int device);
  void* comm_;  // ncclComm_t
  int32_t rank_, world_;
  int device_;
  void* stream_ = nullptr;
  bool aborted_ = false;
};

}  // namespace warden::engine::parallel
