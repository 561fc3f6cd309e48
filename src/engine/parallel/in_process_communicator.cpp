#include "warden/engine/parallel/in_process_communicator.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace warden::engine::parallel {

class InProcessGroup::Rank final : public Communicator {
 public:
  Rank(InProcessGroup& group, int32_t rank) : g_(group), rank_(rank) {}
  int32_t rank() const override { return rank_; }
  int32_t world() const override { return g_.world_; }

  void all_reduce_sum(float* data, size_t n) override {
    g_.bufs_[size_t(rank_)] = data;
    g_.counts_[size_t(rank_)] = n;
    g_.barrier();  // every rank's partial sums are ready
    check_counts(n, "all_reduce_sum");
    // Each rank owns a slice of the elements: it adds them over ranks 0..N-1 in order and
    // writes the sum into every rank's buffer. No other rank touches those elements, so
    // reading and writing in place is safe; the order is fixed whoever runs it.
    const size_t world = size_t(g_.world_), chunk = (n + world - 1) / world;
    const size_t begin = std::min(n, chunk * size_t(rank_)), end = std::min(n, begin + chunk);
    const std::vector<float*>& bufs = g_.bufs_;
    for (size_t i = begin; i < end; ++i) {
      float s = bufs[0][i];
      for (size_t k = 1; k < world; ++k) s += bufs[k][i];
      for (size_t k = 0; k < world; ++k) bufs[k][i] = s;
    }
    g_.barrier();  // all slices written
  }

  void all_gather(const float* in, size_t n, float* out) override {
    g_.inputs_[size_t(rank_)] = in;
    g_.counts_[size_t(rank_)] = n;
    g_.barrier();
    check_counts(n, "all_gather");
    for (size_t k = 0; k < size_t(g_.world_); ++k) {
      const float* src = g_.inputs_[k];
      if (src != out + k * n) std::copy_n(src, n, out + k * n);
    }
    g_.barrier();  // nobody reuses its input while another rank may still read it
  }

 private:
  void check_counts(size_t n, const char* op) {
    for (size_t k = 0; k < size_t(g_.world_); ++k)
      if (g_.counts_[k] != n) {
        // Every rank sees the same counts, so every rank throws here; abort anyway so a
        // rank that is somewhere else does not wait for this collective's second half.
        g_.abort();
        throw std::logic_error(std::string(op) + ": rank " + std::to_string(k) + " passed " +
                               std::to_string(g_.counts_[k]) + " elements, rank " + std::to_string(rank_) + " " +
                               std::to_string(n));
      }
  }

  InProcessGroup& g_;
  int32_t rank_;
};

InProcessGroup::InProcessGroup(int32_t world) : world_(world) {
  if (world < 1) throw std::invalid_argument("InProcessGroup needs world >= 1");
  for (int32_t r = 0; r < world; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  bufs_.assign(size_t(world), nullptr);
  inputs_.assign(size_t(world), nullptr);
  counts_.assign(size_t(world), 0);
}

InProcessGroup::~InProcessGroup() = default;

Communicator& InProcessGroup::rank(int32_t r) {
  if (r < 0 || r >= world_) throw std::out_of_range("rank " + std::to_string(r) + " outside the group");
  return *ranks_[size_t(r)];
}

void InProcessGroup::barrier() {
  std::unique_lock lk(mu_);
  if (aborted_) throw std::runtime_error("tensor-parallel group aborted by a failed rank");
  const uint64_t gen = generation_;
  if (++arrived_ == world_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  cv_.wait(lk, [&] { return generation_ != gen || aborted_; });
  if (generation_ == gen) throw std::runtime_error("tensor-parallel group aborted by a failed rank");
}

void InProcessGroup::abort() {
  std::lock_guard lk(mu_);
  aborted_ = true;
  cv_.notify_all();
}

void InProcessGroup::reset() {
  std::lock_guard lk(mu_);
  aborted_ = false;
  arrived_ = 0;
}

}  // namespace warden::engine::parallel
