// Backend-only throughput: Backend::forward on a model folder, no scheduler or sampler,
// against ceilings measured in the same run. Decode at batch B streams every weight once
// per step (the rowwise GEMM shares them across sequences), so the memory ceiling is
// B × copy bandwidth / (weight bytes + KV bytes read per step); the compute ceiling is
// the machine's sgemm FLOP/s / (2 × parameters) tokens/s. The roofline is the lower.
// On a GPU (--device cuda:N) the ceilings come from the caller, measured in the same run
// (--bandwidth-gbs, --tflops: bench/engine/gpu_perf.py), and weights are bf16.
// Usage: forward_bench --model DIR [--device cpu|cuda:N] [--batches 1,8,32] [--context 128]
//        [--steps 8] [--bandwidth-gbs X] [--tflops X]
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/model/model_config.hpp"

using namespace warden::engine;
using Clock = std::chrono::steady_clock;

namespace {

// Process CPU seconds: on a shared machine, wall time / CPU time shows how much of the
// run the bench was actually scheduled.
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double copy_bandwidth() {
  const size_t n = size_t(64) << 20;  // 256 MiB per buffer
  std::vector<float> a(n, 1.0f), b(n, 0.0f);
  const int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        std::memcpy(b.data() + lo, a.data() + lo, (hi - lo) * sizeof(float));
      });
    for (auto& t : ts) t.join();
    best = std::max(best, 2.0 * double(n) * 4 / since(t0));
  }
  return best;
}

// FLOP/s of a large OpenBLAS sgemm on all cores: the compute side of the roofline.
double sgemm_flops() {
  const int n = 1024;
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    best = std::max(best, 2.0 * n * n * double(n) / since(t0));
  }
  return best;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t c = s.find(',', pos);
    out.push_back(std::stoi(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos)));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, batches_arg = "1,8,32", device = "cpu";
  int context = 128, steps = 8;
  double given_bw_gbs = 0, given_tflops = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--model") model = argv[i + 1];
    else if (k == "--batches") batches_arg = argv[i + 1];
    else if (k == "--context") context = std::stoi(argv[i + 1]);
    else if (k == "--steps") steps = std::stoi(argv[i + 1]);
    else if (k == "--device") device = argv[i + 1];
    else if (k == "--bandwidth-gbs") given_bw_gbs = std::stod(argv[i + 1]);
    else if (k == "--tflops") given_tflops = std::stod(argv[i + 1]);
  }
  if (model.empty()) {
    std::fprintf(stderr,
                 "usage: forward_bench --model DIR [--device cpu|cuda:N] [--batches 1,8,32] [--context 128] "
                 "[--steps 8] [--bandwidth-gbs X] [--tflops X]\n");
    return 2;
  }
  const ModelConfig cfg = load_model_config(model);
  const bool on_cpu = device == "cpu";
  auto backend = make_backend(model, device);
  const double bw = given_bw_gbs > 0 ? given_bw_gbs * 1e9 : on_cpu ? copy_bandwidth() : 0.0;
  const double flops = given_tflops > 0 ? given_tflops * 1e12 : on_cpu ? sgemm_flops() : 0.0;
  if (bw <= 0 || flops <= 0) {
    std::fprintf(stderr, "forward_bench: on %s give --bandwidth-gbs and --tflops (measured in the same run)\n",
                 device.c_str());
    return 2;
  }
  const std::vector<int> batches = parse_list(batches_arg);
  const int max_batch = *std::max_element(batches.begin(), batches.end());
  const int block = 16, per_seq = (context + steps + block) / block + 1;
  backend->allocate_kv(max_batch * per_seq, block);

  const double weight_bytes = double(cfg.parameter_count()) * (on_cpu ? 4 : 2);  // fp32 on the CPU, bf16 on a GPU
  const double kv_token_bytes = double(backend->kv_bytes_per_block(1));
  std::printf("### %s backend forward (%s, %.1fM params, weights %.0f MB)\n\n", backend->name().c_str(),
              cfg.architecture.c_str(), double(cfg.parameter_count()) / 1e6, weight_bytes / 1e6);
  std::printf("copy bandwidth: %.1f GB/s, GEMM %.1f GFLOP/s (%s)\n\n", bw / 1e9, flops / 1e9,
              given_bw_gbs > 0 ? "given by the caller" : "measured here, all threads");
  std::printf("| batch | prefill tok/s (%d-token prompts) | prefill / compute ceiling | decode tok/s | decode ceiling "
              "tok/s (memory, compute) | fraction | decode CPU ms/step |\n",
              context);
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int b : batches) {
    std::vector<std::vector<int32_t>> tables(static_cast<size_t>(b));
    for (int s = 0; s < b; ++s)
      for (int j = 0; j < per_seq; ++j) tables[size_t(s)].push_back(s * per_seq + j);
    std::vector<float> logits;
    // Prefill: all b prompts in one step.
    ForwardBatch pre;
    for (int s = 0; s < b; ++s) {
      for (int t = 0; t < context; ++t) pre.tokens.push_back((s * 7919 + t * 31) % cfg.vocab_size);
      SequenceSlice sl;
      sl.num_new_tokens = context;
      sl.block_table = tables[size_t(s)];
      sl.need_logits = true;
      pre.seqs.push_back(sl);
    }
    auto t0 = Clock::now();
    backend->forward(pre, logits);
    const double prefill_tps = double(b) * context / since(t0);
    // Decode: `steps` steps of one token per sequence.
    t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    for (int step = 0; step < steps; ++step) {
      ForwardBatch dec;
      for (int s = 0; s < b; ++s) {
        dec.tokens.push_back((s + step * 13) % cfg.vocab_size);
        SequenceSlice sl;
        sl.num_new_tokens = 1;
        sl.num_cached_tokens = context + step;
        sl.block_table = tables[size_t(s)];
        sl.need_logits = true;
        dec.seqs.push_back(sl);
      }
      backend->forward(dec, logits);
    }
    const double decode_tps = double(b) * steps / since(t0);
    const double cpu_ms_per_step = 1e3 * (cpu_seconds() - cpu0) / steps;
    const double step_bytes = weight_bytes + double(b) * (context + steps / 2.0) * kv_token_bytes;
    const double mem_roof = double(b) * bw / step_bytes;
    const double compute_roof = flops / (2.0 * double(cfg.parameter_count()));
    const double roof = std::min(mem_roof, compute_roof);
    // Prefill computes the LM head for one token per prompt only.
    const double body = double(cfg.parameter_count()) - double(cfg.vocab_size) * cfg.hidden_size;
    const double prefill_roof = flops / (2.0 * body);
    std::printf("| %d | %.0f | %.0f%% | %.1f | %.1f (%.1f, %.1f) | %.0f%% | %.0f |\n", b, prefill_tps,
                100.0 * prefill_tps / prefill_roof, decode_tps, roof, mem_roof, compute_roof,
                100.0 * decode_tps / roof, cpu_ms_per_step);
    std::fflush(stdout);
  }
  return 0;
}
