#include "warden/engine/parallel/tensor_parallel_backend.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "warden/engine/backend/cpu/cpu_backend.hpp"
#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/parallel/in_process_communicator.hpp"
#include "warden/engine/parallel/shard_plan.hpp"

namespace warden::engine::parallel {

// One persistent thread per rank; run() hands the same job to all and waits for all.
struct TensorParallelBackend::Threads {
  std::mutex mu;
  std::condition_variable start_cv, done_cv;
  const std::function<void(int32_t)>* job = nullptr;
  uint64_t generation = 0;
  int32_t pending = 0;
  bool stop = false;
  std::exception_ptr first_error;  // the rank that failed first, not the ones it aborted
  std::function<void()> abort;
  std::vector<std::thread> workers;

  Threads(int32_t world, std::function<void()> abort_group) : abort(std::move(abort_group)) {
    for (int32_t r = 0; r < world; ++r) workers.emplace_back([this, r] { loop(r); });
  }
  ~Threads() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    start_cv.notify_all();
    for (auto& t : workers) t.join();
  }

  void loop(int32_t rank) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int32_t)>* fn;
      {
        std::unique_lock lk(mu);
        start_cv.wait(lk, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
        fn = job;
      }
      std::exception_ptr err;
      try {
        (*fn)(rank);
      } catch (...) {
        err = std::current_exception();
      }
      bool first = false;
      {
        std::lock_guard lk(mu);
        if (err && !first_error) {
          first_error = err;
          first = true;
        }
      }
      // Outside the lock: the others may be waiting in a collective for this rank.
      if (first && abort) abort();
      {
        std::lock_guard lk(mu);
        if (--pending == 0) done_cv.notify_all();
      }
    }
  }

  std::exception_ptr run(const std::function<void(int32_t)>& fn) {
    std::unique_lock lk(mu);
    job = &fn;
    first_error = nullptr;
    pending = int32_t(workers.size());
    ++generation;
    start_cv.notify_all();
    done_cv.wait(lk, [&] { return pending == 0; });
    job = nullptr;
    return first_error;
  }
};

TensorParallelBackend::TensorParallelBackend(TensorParallelGroup group) : group_(std::move(group)) {
  if (group_.ranks.empty()) throw std::invalid_argument("TensorParallelBackend needs at least one rank");
  for (const auto& r : group_.ranks)
    if (!r) throw std::invalid_argument("TensorParallelBackend: null rank backend");
  rank_logits_.resize(group_.ranks.size());
  threads_ = std::make_unique<Threads>(int32_t(group_.ranks.size()), group_.abort);
}

TensorParallelBackend::~TensorParallelBackend() {
  threads_.reset();  // join before the ranks (and then their communicators) go
  group_.ranks.clear();
}

void TensorParallelBackend::run(const std::function<void(int32_t)>& fn) {
  if (std::exception_ptr err = threads_->run(fn)) {
    if (group_.reset) group_.reset();
    std::rethrow_exception(err);
  }
}

void TensorParallelBackend::allocate_kv(int32_t num_blocks, int32_t block_tokens) {
  run([&](int32_t r) { group_.ranks[size_t(r)]->allocate_kv(num_blocks, block_tokens); });
}

size_t TensorParallelBackend::kv_bytes_per_block(int32_t block_tokens) const {
  size_t total = 0;
  for (const auto& r : group_.ranks) total += r->kv_bytes_per_block(block_tokens);
  return total;
}

void TensorParallelBackend::forward(const ForwardBatch& batch, std::vector<float>& logits) {
  run([&](int32_t r) { group_.ranks[size_t(r)]->forward(batch, r == 0 ? logits : rank_logits_[size_t(r)]); });
}

bool TensorParallelBackend::healthy() const {
  return std::all_of(group_.ranks.begin(), group_.ranks.end(), [](const auto& r) { return r->healthy(); });
}

int32_t TensorParallelBackend::vocab_size() const { return group_.ranks[0]->vocab_size(); }
int32_t TensorParallelBackend::max_context() const { return group_.ranks[0]->max_context(); }
std::string TensorParallelBackend::name() const {
  return group_.ranks[0]->name() + " tp=" + std::to_string(group_.ranks.size());
}
int32_t TensorParallelBackend::world() const { return int32_t(group_.ranks.size()); }

std::unique_ptr<Backend> make_tensor_parallel_cpu_backend(const std::string& model_dir, int32_t tp,
                                                          int threads_per_rank) {
  const ModelConfig config = load_model_config(model_dir);
  validate_tensor_parallel(config, tp);  // before loading gigabytes of weights
  if (threads_per_rank <= 0)
    threads_per_rank = std::max(1, int(std::thread::hardware_concurrency()) / std::max(1, int(tp)));
  auto full = std::make_shared<const cpu::CpuWeights>(config, model_dir);
  auto comms = std::make_shared<InProcessGroup>(tp);
  TensorParallelGroup group;
  for (int32_t r = 0; r < tp; ++r) {
    const ShardPlan plan = make_shard_plan(config, r, tp);
    group.ranks.push_back(std::make_unique<cpu::CpuBackend>(config, cpu::CpuWeights::shard(full, plan), plan,
                                                            comms->rank(r), threads_per_rank));
  }
  group.abort = [g = comms.get()] { g->abort(); };
  group.reset = [g = comms.get()] { g->reset(); };
  group.keep_alive = comms;
  return std::make_unique<TensorParallelBackend>(std::move(group));
}

}  // namespace warden::engine::parallel
