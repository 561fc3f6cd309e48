#pragma once
// The collectives tensor parallelism needs, one communicator per rank. Every rank of a
// group must make the same calls in the same order with the same counts (as in NCCL).
// Pointers live where the rank computes: host memory for the in-process communicator
// (simulated ranks on threads), device memory for NCCL, where a call is enqueued on the
// communicator's stream and complete in stream order rather than on return.
#include <cstddef>
#include <cstdint>

namespace warden::engine::parallel {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int32_t rank() const = 0;
  virtual int32_t world() const = 0;
  // data[i] = Σ over ranks of data[i], the same result on every rank.
  virtual void all_reduce_sum(float* data, size_t n) = 0;
  // Each rank contributes `n` floats; out[r * n, (r + 1) * n) receives rank r's.
  // `in` must not overlap `out` except as out + rank * n (NCCL's in-place form).
  virtual void all_gather(const float* in, size_t n, float* out) = 0;
};

}  // namespace warden::engine::parallel
