#pragma once
// A fixed pool of worker threads for the CPU backend's element-wise and attention
// loops (GEMMs use OpenBLAS's own threads). parallel_for blocks until every chunk
// is done and is meant to be called from one thread at a time (the executor).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace warden::engine::cpu {

class ThreadPool {
 public:
  // threads <= 0: WARDEN_CPU_THREADS from the environment, else hardware_concurrency.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  // Splits [0, n) into at most size() contiguous chunks; fn(begin, end) per chunk.
  // Which thread runs a chunk never changes what it computes.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* task_ = nullptr;
  int64_t task_n_ = 0;
  int chunks_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace warden::engine::cpu
