#pragma once
// The door between the serving machinery (kv/, scheduler/, runner/) and the code that
// runs the model (backend/cpu, backend/cuda). The scheduler decides which tokens run
// and which KV blocks they use; a backend owns the KV pool memory and computes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace warden::engine {

// One sequence's share of a step: a prefill chunk or one decode token.
struct SequenceSlice {
  int32_t num_new_tokens = 0;     // tokens of this sequence computed in this step
  int32_t num_cached_tokens = 0;  // tokens already in KV; new tokens take positions from here
  std::vector<int32_t> block_table;  // physical KV blocks covering [0, cached + new)
  bool need_logits = false;          // true for the last prefill chunk and for decode
};

struct ForwardBatch {
  std::vector<int32_t> tokens;       // new tokens of all slices, concatenated in slice order
  std::vector<SequenceSlice> seqs;
};

// How one row is sampled when the backend samples on its device (sample_on_device):
// temperature <= 1e-5 is greedy. Penalties and logprobs need the logits on the host,
// so rows that ask for them never take this path.
struct DeviceSampling {
  float temperature = 0.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  uint64_t seed = 0;
  uint64_t step = 0;  // tokens this sequence generated so far (keys the random stream)
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Allocates the paged KV pool (every layer, K and V). Not thread-safe; call once before forward.
  virtual void allocate_kv(int32_t num_blocks, int32_t block_tokens) = 0;
  // Bytes one block takes across all layers, for sizing the pool from a memory budget.
  virtual size_t kv_bytes_per_block(int32_t block_tokens) const = 0;
  // Runs the model over the batch, writes the new tokens' K/V into their blocks and fills
  // `logits` with one row of vocab_size() floats per slice with need_logits, in slice order.
  // Called from the engine's executor thread only.
  virtual void forward(const ForwardBatch& batch, std::vector<float>& logits) = 0;
  // Like forward(), but samples one token per need_logits slice on the device (one
  // DeviceSampling per such slice, in slice order) so only the ids come back. Returns
  // false, doing nothing, when the backend can't (the CPU backend samples on the host).
  virtual bool forward_sample(const ForwardBatch& batch, const std::vector<DeviceSampling>& sampling,
                              std::vector<int32_t>& ids) {
    return false;
  }
  // Sizes the per-step buffers for steps of up to `max_batched_tokens` tokens and
  // `max_seqs` sequences, before the KV pool is sized, so that a device backend's
  // kv_memory_budget() counts them. Optional: forward() grows what it needs anyway.
  virtual void prepare(int32_t max_batched_tokens, int32_t max_seqs) {}
  // Bytes the KV pool may take when `fraction` of the device's memory belongs to the
  // engine (weights and activations already allocated count against it). 0 = no device
  // budget: the engine sizes the pool from EngineConfig::kv_cache_bytes.
  virtual size_t kv_memory_budget(double fraction) const { return 0; }
  // False after an unrecoverable device error (e.g. an illegal address poisons a CUDA
  // context): the engine then fails requests at once instead of retrying the device.
  virtual bool healthy() const { return true; }
  virtual int32_t vocab_size() const = 0;
  virtual int32_t max_context() const = 0;
  virtual std::string name() const = 0;  // e.g. "cpu", "cuda:0"
};

// Loads the model folder (config.json, *.safetensors) onto `device` ("auto", "cpu", "cuda:N").
// Throws std::runtime_error with a clear message when the folder or device is unusable.
// `note`, when given, receives one line saying which device "auto" chose and why (the
// caller logs it; empty for an explicit device).
std::unique_ptr<Backend> make_backend(const std::string& model_dir, const std::string& device,
                                      std::string* note = nullptr);

}  // namespace warden::engine
