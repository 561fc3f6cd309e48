#pragma once
// Simulated ranks: a group of `world` communicators for threads of one process, over
// shared host memory. all_reduce_sum adds the ranks' buffers in rank order 0..N-1 for
// every element, whichever thread does the adding, so a result is reproducible run to
// run (it still differs from an unsplit sum in the last bits: the split changes what is
// added, not only the order).
//
// A rank that fails mid-step calls abort(): every rank blocked in (or later entering) a
// collective throws instead of waiting forever. reset() makes the group usable again
// once all ranks have left their collectives.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "warden/engine/parallel/communicator.hpp"

namespace warden::engine::parallel {

class InProcessGroup {
 public:
  explicit InProcessGroup(int32_t world);
  ~InProcessGroup();
  InProcessGroup(const InProcessGroup&) = delete;
  InProcessGroup& operator=(const InProcessGroup&) = delete;
  int32_t world() const { return world_; }
  // The communicator of `rank`; owned by the group, valid as long as it.
  Communicator& rank(int32_t r);
  void abort();
  void reset();

 private:
  class Rank;
  friend class Rank;
  // Blocks until all `world_` ranks arrived; throws once the group is aborted.
  void barrier();

  int32_t world_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::mutex mu_;
  std::condition_variable cv_;
  int32_t arrived_ = 0;
  uint64_t generation_ = 0;
  bool aborted_ = false;
  // Published by each rank between barriers.
  std::vector<float*> bufs_;
  std::vector<const float*> inputs_;
  std::vector<size_t> counts_;
  std::vector<float> sum_;
};

}  // namespace warden::engine::parallel
