#include "device_weights.hpp"

#include <cstring>
#include <stdexcept>

#include "cuda_check.hpp"
#include "warden/engine/model/tensor_names.hpp"
#include "warden/engine/weights/dtype.hpp"
#include "warden/engine/weights/weight_store.hpp"

namespace warden::engine::cuda {

std::vector<uint16_t> DeviceWeights::host_bf16(const Part& part) const {
  const TensorInfo& t = store_->require(part.name, part.shape);
  const size_t n = size_t(t.numel());
  std::vector<uint16_t> out(n);
  if (t.dtype == DType::BF16) {
    std::memcpy(out.data(), t.data, n * sizeof(uint16_t));  // the mapping may be unaligned
    return out;
  }
  if (t.dtype == DType::F8_E4M3) {
    // Block-scaled fp8 (DeepSeek-V3/R1): w[i][j] = q[i][j] × scale_inv[i / br][j / bc].
    if (part.shape.size() != 2) throw std::runtime_error("tensor " + part.name + " is F8_E4M3 but not a matrix");
    const Fp8Quant& q = config_.fp8;
    if (!q.enabled)
      throw std::runtime_error("tensor " + part.name + " is F8_E4M3 but config.json has no fp8 quantization_config");
    const int64_t rows = part.shape[0], cols = part.shape[1];
    const std::string scale_name = part.name.substr(0, part.name.size() - std::string("weight").size()) + "weight_scale_inv";
    const int64_t br = q.block_rows, bc = q.block_cols, srows = (rows + br - 1) / br, scols = (cols + bc - 1) / bc;
    const std::vector<float> scale = store_->load_f32(scale_name, {srows, scols});
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        out[size_t(i * cols + j)] =
            f32_to_bf16(f8e4m3_to_f32(t.data[size_t(i * cols + j)]) * scale[size_t((i / br) * scols + j / bc)]);
    return out;
  }
  const std::vector<float> f = store_->load_f32(part.name, part.shape);
  for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(f[i]);
  return out;
}

const bf16* DeviceWeights::upload(const std::vector<Part>& parts) {
  size_t total = 0;
  for (const Part& p : parts) total += size_t(store_->require(p.name, p.shape).numel());
  DeviceBuffer buf(total * sizeof(uint16_t));
  size_t at = 0;
  for (const Part& p : parts) {
    // One tensor on the host at a time: peak host memory is the largest tensor.
    const std::vector<uint16_t> h = host_bf16(p);
    WARDEN_CUDA_CHECK(cudaMemcpy(buf.as<uint16_t>() + at, h.data(), h.size() * sizeof(uint16_t), cudaMemcpyHostToDevice));
    at += h.size();
  }
  bytes_ += buf.bytes();
  const bf16* ptr = buf.as<const bf16>();
  buffers_.push_back(std::move(buf));
  return ptr;
}

DeviceMatrix DeviceWeights::stacked(const std::vector<Part>& parts) {
  int32_t rows = 0;
  for (const Part& p : parts) rows += int32_t(p.shape.at(0));
  const int32_t cols = int32_t(parts.at(0).shape.at(1));
  return DeviceMatrix{upload(parts), rows, cols};
}

const float* DeviceWeights::vec_f32(const std::string& name, int64_t n) {
  const std::vector<float> f = store_->load_f32(name, {n});
  DeviceBuffer buf(f.size() * sizeof(float));
  WARDEN_CUDA_CHECK(cudaMemcpy(buf.get(), f.data(), f.size() * sizeof(float), cudaMemcpyHostToDevice));
  bytes_ += buf.bytes();
  const float* ptr = buf.as<const float>();
  buffers_.push_back(std::move(buf));
  return ptr;
}

DeviceMlp DeviceWeights::mlp(const std::string& gate, const std::string& up, const std::string& down, int32_t hidden,
                             int32_t inter) {
  DeviceMlp m;
  m.gate_up = stacked({{gate, {inter, hidden}}, {up, {inter, hidden}}});
  m.down = matrix(down, hidden, inter);
  return m;
}

DeviceWeights::DeviceWeights(const ModelConfig& config, const std::string& model_dir)
    : config_(config), store_(std::make_unique<WeightStore>(model_dir)) {
  const ModelConfig& c = config_;
  const int32_t h = c.hidden_size, q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;
  embed_ = matrix(names::kEmbed, c.vocab_size, h).data;
  for (int32_t l = 0; l < c.num_layers; ++l) {
    const std::string p = names::layer(l);
    DeviceLayer w;
    w.input_norm = vec(p + names::kInputNorm, h);
    w.post_norm = vec(p + names::kPostNorm, h);
    if (c.mla.enabled) {
      const MlaConfig& m = c.mla;
      const int32_t heads = c.num_heads, a_rows = m.kv_lora_rank + m.qk_rope_head_dim;
      const Part kv_a{p + names::attn("kv_a_proj_with_mqa"), {a_rows, h}};
      if (m.q_lora_rank) {
        w.mla_in = stacked({{p + names::attn("q_a_proj"), {m.q_lora_rank, h}}, kv_a});
        w.q_a_norm = vec(p + names::attn("q_a_layernorm"), m.q_lora_rank);
        w.q_b = matrix(p + names::attn("q_b_proj"), heads * m.q_head_dim(), m.q_lora_rank);
      } else {
        w.mla_in = stacked({{p + names::attn("q_proj"), {heads * m.q_head_dim(), h}}, kv_a});
      }
      w.kv_a_norm = vec(p + names::attn("kv_a_layernorm"), m.kv_lora_rank);
      w.kv_b = matrix(p + names::attn("kv_b_proj"), heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
      w.o = matrix(p + names::attn("o_proj"), h, heads * m.v_head_dim);
    } else {
      w.qkv = stacked({{p + names::attn("q_proj"), {q_dim, h}},
                       {p + names::attn("k_proj"), {kv_dim, h}},
                       {p + names::attn("v_proj"), {kv_dim, h}}});
      if (c.qkv_bias)
        w.qkv_bias = upload({{p + names::attn("q_proj", "bias"), {q_dim}},
                             {p + names::attn("k_proj", "bias"), {kv_dim}},
                             {p + names::attn("v_proj", "bias"), {kv_dim}}});
      w.o = matrix(p + names::attn("o_proj"), h, q_dim);
    }
    if (c.o_bias) w.o_bias = vec(p + names::attn("o_proj", "bias"), h);
    w.is_moe = c.is_moe_layer(l);
    if (!w.is_moe) {
      w.mlp = mlp(p + names::mlp("gate_proj"), p + names::mlp("up_proj"), p + names::mlp("down_proj"), h,
                  c.intermediate_size);
    } else {
      const MoeConfig& m = c.moe;
      const int32_t inter = m.expert_intermediate;
      w.moe.inter = inter;
      w.moe.router = matrix(p + names::kRouter, m.num_experts, h);
      if (m.topk_method == MoeTopkKind::NoauxTc) w.moe.router_bias = vec_f32(p + names::kRouterBias, m.num_experts);
      std::vector<Part> gate_up, down;
      for (int32_t e = 0; e < m.num_experts; ++e) {
        gate_up.push_back({p + names::expert(e, "gate_proj"), {inter, h}});
        gate_up.push_back({p + names::expert(e, "up_proj"), {inter, h}});
        down.push_back({p + names::expert(e, "down_proj"), {h, inter}});
      }
      w.moe.experts_gate_up = upload(gate_up);
      w.moe.experts_down = upload(down);
      if (m.shared_intermediate > 0) {
        w.moe.has_shared = true;
        if (c.family == ModelFamily::Qwen2Moe) {
          w.moe.shared = mlp(p + names::qwen_shared("gate_proj"), p + names::qwen_shared("up_proj"),
                             p + names::qwen_shared("down_proj"), h, m.shared_intermediate);
          if (m.shared_expert_gate) w.moe.shared_gate = matrix(p + names::kQwenSharedGate, 1, h);
        } else {
          w.moe.shared = mlp(p + names::deepseek_shared("gate_proj"), p + names::deepseek_shared("up_proj"),
                             p + names::deepseek_shared("down_proj"), h, m.shared_intermediate);
        }
      }
    }
    layers_.push_back(std::move(w));
  }
  final_norm_ = vec(names::kFinalNorm, h);
  // Tied: HF ties lm_head to the embedding even when a copy is stored.
  lm_head_ = c.tie_word_embeddings ? DeviceMatrix{embed_, c.vocab_size, h} : matrix(names::kLmHead, c.vocab_size, h);
  // The uploads are cudaMemcpy from pageable memory on the legacy default stream: they
  // may return before the last DMA lands, and the backend's non-blocking stream does
  // not wait for that stream. Finish them before any kernel reads a weight.
  WARDEN_CUDA_CHECK(cudaDeviceSynchronize());
  store_.reset();  // unmap the files: everything lives on the device now
}

DeviceWeights::~DeviceWeights() = default;

}  // namespace warden::engine::cuda
