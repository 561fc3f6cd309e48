#include "device_buffer.hpp"

#include <utility>

#include <cuda_runtime_api.h>

#include "cuda_check.hpp"

namespace warden::engine::cuda {

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::ensure(size_t bytes) {
  if (bytes <= bytes_ && ptr_) return;
  reset();
  if (bytes == 0) return;
  WARDEN_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  bytes_ = bytes;
}

void DeviceBuffer::reset() {
  // Destructors must not throw: a failed free (poisoned context) leaks, nothing more.
  if (ptr_) (void)cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void PinnedBuffer::ensure(size_t bytes) {
  if (bytes <= bytes_ && ptr_) return;
  reset();
  if (bytes == 0) return;
  WARDEN_CUDA_CHECK(cudaMallocHost(&ptr_, bytes));
  bytes_ = bytes;
}

void PinnedBuffer::reset() {
  if (ptr_) (void)cudaFreeHost(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace warden::engine::cuda
