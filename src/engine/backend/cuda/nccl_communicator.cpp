// NcclCommunicator: tensor-parallel collectives over NCCL. Compiled only with
// WARDEN_CUDA (the folder) and a found libnccl (WARDEN_HAVE_NCCL).
#include "warden/engine/parallel/nccl_communicator.hpp"

#if defined(WARDEN_HAVE_NCCL)

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

namespace warden::engine::parallel {

namespace {

// The one check for NCCL results in this file (cuda_check.hpp's WARDEN_NCCL_CHECK is
// not committed yet; swap to it when it is). ncclInProgress only comes back from
// non-blocking communicators, which these are not, so anything but success is fatal.
void check_nccl(ncclResult_t r, const char* expr, int line) {
  if (r != ncclSuccess)
    throw std::runtime_error(std::string("NCCL error at nccl_communicator.cpp:") + std::to_string(line) + ": " + expr +
                             ": " + ncclGetErrorString(r));
}
void check_cuda(cudaError_t e, const char* expr, int line) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error at nccl_communicator.cpp:") + std::to_string(line) + ": " + expr +
                             ": " + cudaGetErrorString(e));
}
#define NCCL_CHECK(expr) check_nccl((expr), #expr, __LINE__)
#define CUDA_CHECK(expr) check_cuda((expr), #expr, __LINE__)

ncclComm_t as_comm(void* c) { return static_cast<ncclComm_t>(c); }
cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace

NcclCommunicator::NcclCommunicator(void* comm, int32_t rank, int32_t world, int device)
    : comm_(comm), rank_(rank), world_(world), device_(device) {}

std::vector<std::unique_ptr<NcclCommunicator>> NcclCommunicator::create_group(const std::vector<int>& devices) {
  if (devices.empty()) throw std::invalid_argument("NcclCommunicator::create_group needs at least one device");
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  for (int d : devices)
    if (d < 0 || d >= count)
      throw std::invalid_argument("tensor_parallel: device cuda:" + std::to_string(d) + " does not exist (" +
                                  std::to_string(count) + " visible)");
  std::vector<ncclComm_t> comms(devices.size(), nullptr);
  NCCL_CHECK(ncclCommInitAll(comms.data(), int(devices.size()), devices.data()));
  std::vector<std::unique_ptr<NcclCommunicator>> out;
  for (size_t r = 0; r < devices.size(); ++r)
    out.emplace_back(new NcclCommunicator(comms[r], int32_t(r), int32_t(devices.size()), devices[r]));
  return out;
}

NcclCommunicator::~NcclCommunicator() {
  // An aborted communicator is already freed; destroy must not throw from a destructor.
  if (comm_ && !aborted_) ncclCommDestroy(as_comm(comm_));
}

void NcclCommunicator::all_reduce_sum(float* data, size_t n) {
  if (n == 0) return;
  CUDA_CHECK(cudaSetDevice(device_));
  NCCL_CHECK(ncclAllReduce(data, data, n, ncclFloat32, ncclSum, as_comm(comm_), as_stream(stream_)));
}

void NcclCommunicator::all_reduce_sum_bf16(void* data, size_t n) {
  if (n == 0) return;
  CUDA_CHECK(cudaSetDevice(device_));
  NCCL_CHECK(ncclAllReduce(data, data, n, ncclBfloat16, ncclSum, as_comm(comm_), as_stream(stream_)));
}

void NcclCommunicator::all_gather(const float* in, size_t n, float* out) {
  if (n == 0) return;
  CUDA_CHECK(cudaSetDevice(device_));
  // sendcount is per rank; in == out + rank * n is NCCL's in-place form.
  NCCL_CHECK(ncclAllGather(in, out, n, ncclFloat32, as_comm(comm_), as_stream(stream_)));
}

void NcclCommunicator::abort() {
  if (aborted_ || !comm_) return;
  aborted_ = true;
  ncclCommAbort(as_comm(comm_));  // best effort: the group is being torn down anyway
}

}  // namespace warden::engine::parallel

#endif  // WARDEN_HAVE_NCCL
