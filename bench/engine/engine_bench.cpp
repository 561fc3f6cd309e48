// Engine throughput vs the machine's memory-bandwidth roofline, measured in one run.
//   1. Memory bandwidth: on the CPU a STREAM-like copy (all cores); on a GPU the caller
//      passes the device copy rate it measured in the same run (--bandwidth-gbs, from
//      bench/engine/gpu_perf.py), since this program links no GEMM/copy benchmark of its own.
//   2. Decode tokens/s at each batch through the whole Engine (scheduler, paged KV,
//      backend, sampler): each step streams every weight once (+ the KV it attends to),
//      so the ceiling is batch × bandwidth / bytes-per-step.
//   3. Prefill tokens/s at the same batches (compute-bound; GFLOP/s shows the compute side).
//   4. TTFT of a prompt that misses the prefix cache vs the same prompt again (hit).
// Prints a markdown section, and with --json FILE the same figures as JSON (gpu_perf.py
// joins them with the GEMM rate and the PyTorch peer). Speed is reported, never asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "warden/engine/engine.hpp"
#include "warden/engine/model/model_config.hpp"

using namespace warden::engine;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Best-of-N multi-threaded copy; counts bytes read + bytes written.
double stream_copy_bytes_per_s(size_t floats, int threads, int reps) {
  std::vector<float> a(floats, 1.0f), b(floats, 0.0f);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    size_t chunk = (floats + threads - 1) / threads;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        size_t lo = std::min(floats, t * chunk), hi = std::min(floats, lo + chunk);
        std::memcpy(b.data() + lo, a.data() + lo, (hi - lo) * sizeof(float));
      });
    for (auto& t : ts) t.join();
    double s = seconds_since(t0);
    best = std::max(best, 2.0 * floats * sizeof(float) / s);
    a[r % floats] = b[(r * 7) % floats];  // keep the copies observable
  }
  return best;
}

std::vector<int32_t> make_prompt(int n, int salt, int vocab) {
  std::vector<int32_t> p(n);
  uint64_t x = 0x9e3779b97f4a7c15ULL * (salt + 1);
  for (auto& t : p) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t = 1000 + static_cast<int32_t>(x % static_cast<uint64_t>(std::max(1, vocab - 2000)));
  }
  return p;
}

GenerationRequest greedy(std::vector<int32_t> p, int max_tokens) {
  GenerationRequest r;
  r.prompt_tokens = std::move(p);
  r.sampling.temperature = 0;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

struct BatchRun {
  double first_all_s = 0;  // all requests have their first token
  double end_s = 0;        // all requests finished
};

BatchRun run_batch(Engine& e, int batch, int prompt, int gen, int vocab, int salt) {
  std::vector<GenerationResult> res(batch);
  std::vector<std::thread> ts;
  for (int i = 0; i < batch; ++i)
    ts.emplace_back([&, i] { res[i] = e.generate(greedy(make_prompt(prompt, salt * 1000 + i, vocab), gen)); });
  for (auto& t : ts) t.join();
  BatchRun r;
  for (auto& x : res) {
    if (!x.error.empty()) throw std::runtime_error("engine_bench: a request failed: " + x.error);
    r.first_all_s = std::max(r.first_all_s, std::chrono::duration<double>(x.time_to_first_token).count());
    r.end_s = std::max(r.end_s, std::chrono::duration<double>(x.total_time).count());
  }
  return r;
}

double ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  std::string model, device = "cpu", json_path;
  int prompt = 128, gen = 32, ttft_prompt = 512, batch_tokens = 2048;
  double bandwidth_gbs = 0;
  std::vector<int> batches = {1, 8, 32};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model = v;
    else if (k == "--device") device = v;
    else if (k == "--json") json_path = v;
    else if (k == "--bandwidth-gbs") bandwidth_gbs = std::stod(v);
    else if (k == "--max-batched-tokens") batch_tokens = std::stoi(v);
    else if (k == "--prompt") prompt = std::stoi(v);
    else if (k == "--gen") gen = std::stoi(v);
    else if (k == "--ttft-prompt") ttft_prompt = std::stoi(v);
    else if (k == "--batches") {
      batches.clear();
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        batches.push_back(std::stoi(v.substr(p, c - p)));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    }
  }
  if (model.empty()) {
    std::fprintf(stderr,
                 "usage: engine_bench --model DIR [--device cpu|cuda:N] [--prompt N] [--gen N] [--batches 1,8,32] "
                 "[--ttft-prompt N] [--max-batched-tokens N] [--bandwidth-gbs X] [--json FILE]\n");
    return 2;
  }
  const bool on_cpu = device == "cpu";
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double bw = bandwidth_gbs > 0 ? bandwidth_gbs * 1e9
                    : on_cpu          ? stream_copy_bytes_per_s(size_t{64} << 20, hw, 5)  // 2 × 256 MiB
                                      : 0.0;

  ModelConfig mc = load_model_config(model);
  const double params = static_cast<double>(mc.parameter_count());
  const double head_params = static_cast<double>(mc.vocab_size) * mc.hidden_size;
  // The CPU backend holds weights and KV in fp32, the CUDA backend in bf16. An untied
  // embedding table is only gathered row by row, so it is not streamed.
  const double elem = on_cpu ? 4.0 : 2.0;
  const double weight_bytes = (params - (mc.tie_word_embeddings ? 0.0 : head_params)) * elem;
  const double kv_bytes_per_token =
      double(mc.num_layers) * mc.num_kv_heads * (mc.k_head_dim() + mc.v_head_dim()) * elem;
  // Matmul FLOPs per prefill token without the LM head (computed once per sequence).
  const double body_params = params - head_params * (mc.tie_word_embeddings ? 1.0 : 2.0);

  std::printf("## Engine (%s backend) — %s\n\n", device.c_str(), model.c_str());
  std::printf("Model: %s, %.1fM parameters (%d layers, hidden %d, vocab %d), %s weights → %.0f MB streamed per "
              "step.\n",
              mc.architecture.c_str(), params / 1e6, mc.num_layers, mc.hidden_size, mc.vocab_size,
              on_cpu ? "fp32" : "bf16", weight_bytes / 1e6);
  if (bandwidth_gbs > 0)
    std::printf("Memory bandwidth (given by the caller, measured in the same run): **%.1f GB/s**.\n\n", bw / 1e9);
  else if (on_cpu)
    std::printf("Memory bandwidth (STREAM-like copy, %d threads, best of 5, read+write): **%.2f GB/s**.\n\n", hw,
                bw / 1e9);
  else
    std::printf("Memory bandwidth not given (--bandwidth-gbs): no roofline fractions.\n\n");
  std::string json = "{\"device\":\"" + device + "\",\"params\":" + std::to_string(params) +
                     ",\"weight_bytes\":" + std::to_string(weight_bytes) +
                     ",\"kv_bytes_per_token\":" + std::to_string(kv_bytes_per_token) +
                     ",\"body_params\":" + std::to_string(body_params) + ",\"prompt\":" + std::to_string(prompt) +
                     ",\"gen\":" + std::to_string(gen) + ",\"rows\":[";

  std::printf("| batch | prefill tok/s | prefill GFLOP/s | prefill × bw roofline | decode tok/s | decode roofline tok/s | decode / roofline |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  // One engine for every batch row (the model loads once): prefix caching off, so every
  // prompt is computed; salts differ between rows anyway.
  const int max_batch = *std::max_element(batches.begin(), batches.end());
  EngineConfig bcfg;
  bcfg.model_dir = model;
  bcfg.device = device;
  bcfg.max_num_seqs = max_batch;
  bcfg.max_num_batched_tokens = std::max(batch_tokens, max_batch);
  bcfg.num_blocks = static_cast<int64_t>(max_batch) * ((prompt + gen + 15) / 16 + 1) + 16;
  bcfg.prefix_caching = false;
  Engine e(bcfg);
  run_batch(e, 1, 16, 2, mc.vocab_size, 999);  // warm-up (page in weights, spin up threads, GEMM handles)
  for (int b : batches) {
    run_batch(e, b, 16, 2, mc.vocab_size, 5000 + b);  // warm-up at this batch's shapes
    // Prefill: prompt tokens only (one generated token).
    BatchRun p = run_batch(e, b, prompt, 1, mc.vocab_size, b);
    double prefill_tps = b * prompt / p.end_s;
    int steps = (b * prompt + batch_tokens - 1) / batch_tokens;
    double prefill_bw_frac = bw > 0 ? (steps * (weight_bytes) / p.end_s) / bw : 0.0;
    double prefill_gflops = (prefill_tps * 2 * body_params + b * 2 * head_params / p.end_s) / 1e9;
    // Decode: time from the last first-token to the end.
    BatchRun d = run_batch(e, b, prompt, gen, mc.vocab_size, b + 100);
    double decode_s = d.end_s - d.first_all_s;
    double decode_tps = b * (gen - 1) / decode_s;
    double bytes_per_step = weight_bytes + b * (prompt + gen / 2.0) * kv_bytes_per_token;
    double roof_tps = bw > 0 ? b * bw / bytes_per_step : 0.0;
    std::printf("| %d | %.0f | %.1f | %.3f | %.1f | %.1f | %.3f |\n", b, prefill_tps, prefill_gflops, prefill_bw_frac,
                decode_tps, roof_tps, roof_tps > 0 ? decode_tps / roof_tps : 0.0);
    std::fflush(stdout);
    char row[320];
    std::snprintf(row, sizeof row,
                  "%s{\"batch\":%d,\"prefill_tps\":%.3f,\"prefill_gflops\":%.3f,\"decode_tps\":%.3f,"
                  "\"decode_step_ms\":%.4f,\"bytes_per_step\":%.0f}",
                  b == batches.front() ? "" : ",", b, prefill_tps, prefill_gflops, decode_tps,
                  1e3 * decode_s / std::max(1, gen - 1), bytes_per_step);
    json += row;
  }
  json += "]";

  // Prefix cache: the same prompt a second time only computes its last partial block.
  {
    EngineConfig cfg;
    cfg.model_dir = model;
    cfg.device = device;
    cfg.max_num_seqs = 4;
    cfg.max_num_batched_tokens = batch_tokens;
    cfg.num_blocks = 4 * ((ttft_prompt + 32) / 16 + 1) * 4;
    cfg.prefix_caching = true;
    Engine e(cfg);
    e.generate(greedy(make_prompt(16, 12345, mc.vocab_size), 2));  // warm-up
    std::vector<double> miss, hit;
    int64_t cached = 0;
    for (int i = 0; i < 3; ++i) {
      auto p = make_prompt(ttft_prompt, 777 + i, mc.vocab_size);
      auto m = e.generate(greedy(p, 1));
      auto h = e.generate(greedy(p, 1));
      miss.push_back(ms(m.time_to_first_token));
      hit.push_back(ms(h.time_to_first_token));
      cached = h.usage.cached_prompt_tokens;
    }
    std::sort(miss.begin(), miss.end());
    std::sort(hit.begin(), hit.end());
    std::printf("\nPrefix cache, %d-token prompt (median of 3): TTFT miss **%.1f ms**, hit **%.1f ms** "
                "(%lld prompt tokens from cache), %.1f× faster.\n",
                ttft_prompt, miss[1], hit[1], static_cast<long long>(cached), miss[1] / std::max(1e-6, hit[1]));
    char ttft[200];
    std::snprintf(ttft, sizeof ttft, ",\"ttft\":{\"prompt\":%d,\"miss_ms\":%.3f,\"hit_ms\":%.3f,\"cached\":%lld}",
                  ttft_prompt, miss[1], hit[1], static_cast<long long>(cached));
    json += ttft;
  }
  std::printf("\nPrompt %d tokens, %d generated per request, greedy, chunked prefill budget 2048 tokens/step. "
              "Decode roofline = batch × bandwidth / (weights + KV read per step).\n",
              prompt, gen);
  if (!json_path.empty()) {
    std::FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "engine_bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
    json += "}\n";
    std::fwrite(json.data(), 1, json.size(), f);
    std::fclose(f);
  }
  return 0;
}
