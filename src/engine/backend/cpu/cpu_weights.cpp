#include "warden/engine/backend/cpu/cpu_weights.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdint>

#include "warden/engine/model/tensor_names.hpp"

namespace warden::engine::cpu {

// A progress bar on stderr, only for a terminal and a model big enough to wait for.
class CpuWeights::Progress {
 public:
  explicit Progress(size_t total) : total_(total) {
    enabled_ = total >= (size_t(256) << 20) && ::isatty(STDERR_FILENO);
  }
  ~Progress() {
    if (enabled_ && shown_ >= 0) std::fprintf(stderr, "\n");
  }
  void advance(size_t bytes) {
    if (!enabled_) return;
    done_ += bytes;
    int pct = int(100.0 * double(done_) / double(total_));
    if (pct == shown_) return;
    shown_ = pct;
    int bar = pct * 40 / 100;
    std::fprintf(stderr, "\rloading weights [%.*s%*s] %3d%% %zu/%zu MiB", bar,
                 "########################################", 40 - bar, "", pct, done_ >> 20, total_ >> 20);
    std::fflush(stderr);
  }

 private:
  size_t total_, done_ = 0;
  int shown_ = -1;
  bool enabled_ = false;
};

const float* CpuWeights::tensor(const std::string& name, const std::vector<int64_t>& shape) {
  const TensorInfo& t = store_->require(name, shape);
  progress_->advance(t.nbytes);
  if (t.dtype == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
    return reinterpret_cast<const float*>(t.data);
  owned_.push_back(store_->load_f32(name, shape));
  return owned_.back().data();
}

Matrix CpuWeights::matrix(const std::string& name, int32_t rows, int32_t cols) {
  const TensorInfo* t = store_->find(name);
  if (!t || t->dtype != DType::F8_E4M3) return Matrix{tensor(name, {rows, cols}), rows, cols};
  // Block-scaled fp8 (DeepSeek-V3/R1): w[i][j] = q[i][j] × scale_inv[i / br][j / bc].
  store_->require(name, {rows, cols});
  const Fp8Quant& q = config_.fp8;
  if (!q.enabled) throw std::runtime_error("tensor " + name + " is F8_E4M3 but config.json has no fp8 quantization_config");
  const std::string scale_name = name.substr(0, name.size() - std::string("weight").size()) + "weight_scale_inv";
  const int32_t br = q.block_rows, bc = q.block_cols;
  const int64_t srows = (rows + br - 1) / br, scols = (cols + bc - 1) / bc;
  const std::vector<float> scale = store_->load_f32(scale_name, {srows, scols});
  progress_->advance(t->nbytes);
  std::vector<float> w(size_t(rows) * size_t(cols));
  for (int32_t i = 0; i < rows; ++i)
    for (int32_t j = 0; j < cols; ++j)
      w[size_t(i) * cols + j] = f8e4m3_to_f32(t->data[size_t(i) * cols + j]) * scale[size_t(i / br) * scols + j / bc];
  owned_.push_back(std::move(w));
  return Matrix{owned_.back().data(), rows, cols};
}

MlpWeights CpuWeights::mlp(const std::string& gate, const std::string& up, const std::string& down, int32_t hidden,
                           int32_t inter) {
  return MlpWeights{matrix(gate, inter, hidden), matrix(up, inter, hidden), matrix(down, hidden, inter)};
}

CpuWeights::CpuWeights(const ModelConfig& config, const std::string& model_dir)
    : config_(config), store_(std::make_unique<WeightStore>(model_dir)) {
  const ModelConfig& c = config_;
  progress_ = std::make_unique<Progress>(store_->total_bytes());
  const int32_t h = c.hidden_size, q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;
  embed_ = tensor(names::kEmbed, {c.vocab_size, h});
  for (int32_t l = 0; l < c.num_layers; ++l) {
    const std::string p = names::layer(l);
    LayerWeights w;
    w.input_norm = tensor(p + names::kInputNorm, {h});
    w.post_norm = tensor(p + names::kPostNorm, {h});
    if (c.mla.enabled) {
      const MlaConfig& m = c.mla;
      const int32_t heads = c.num_heads;
      if (m.q_lora_rank) {
        w.q_a = matrix(p + names::attn("q_a_proj"), m.q_lora_rank, h);
        w.q_a_norm = tensor(p + names::attn("q_a_layernorm"), {m.q_lora_rank});
        w.q_b = matrix(p + names::attn("q_b_proj"), heads * m.q_head_dim(), m.q_lora_rank);
      } else {
        w.q = matrix(p + names::attn("q_proj"), heads * m.q_head_dim(), h);
      }
      w.kv_a = matrix(p + names::attn("kv_a_proj_with_mqa"), m.kv_lora_rank + m.qk_rope_head_dim, h);
      w.kv_a_norm = tensor(p + names::attn("kv_a_layernorm"), {m.kv_lora_rank});
      w.kv_b = matrix(p + names::attn("kv_b_proj"), heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
      w.o = matrix(p + names::attn("o_proj"), h, heads * m.v_head_dim);
    } else {
      w.q = matrix(p + names::attn("q_proj"), q_dim, h);
      w.k = matrix(p + names::attn("k_proj"), kv_dim, h);
      w.v = matrix(p + names::attn("v_proj"), kv_dim, h);
      w.o = matrix(p + names::attn("o_proj"), h, q_dim);
      if (c.qkv_bias) {
        w.q_bias = tensor(p + names::attn("q_proj", "bias"), {q_dim});
        w.k_bias = tensor(p + names::attn("k_proj", "bias"), {kv_dim});
        w.v_bias = tensor(p + names::attn("v_proj", "bias"), {kv_dim});
      }
    }
    if (c.o_bias) w.o_bias = tensor(p + names::attn("o_proj", "bias"), {h});
    w.is_moe = c.is_moe_layer(l);
    if (!w.is_moe) {
      w.mlp = mlp(p + names::mlp("gate_proj"), p + names::mlp("up_proj"), p + names::mlp("down_proj"), h,
                  c.intermediate_size);
    } else {
      const MoeConfig& m = c.moe;
      w.moe.router = matrix(p + names::kRouter, m.num_experts, h);
      if (m.topk_method == MoeTopkKind::NoauxTc) w.moe.router_bias = tensor(p + names::kRouterBias, {m.num_experts});
      for (int32_t e = 0; e < m.num_experts; ++e)
        w.moe.experts.push_back(mlp(p + names::expert(e, "gate_proj"), p + names::expert(e, "up_proj"),
                                    p + names::expert(e, "down_proj"), h, m.expert_intermediate));
      if (m.shared_intermediate > 0) {
        w.moe.has_shared = true;
        if (c.family == ModelFamily::Qwen2Moe) {
          w.moe.shared = mlp(p + names::qwen_shared("gate_proj"), p + names::qwen_shared("up_proj"),
                             p + names::qwen_shared("down_proj"), h, m.shared_intermediate);
          w.moe.has_shared_gate = m.shared_expert_gate;
          if (m.shared_expert_gate) w.moe.shared_gate = matrix(p + names::kQwenSharedGate, 1, h);
        } else {
          w.moe.shared = mlp(p + names::deepseek_shared("gate_proj"), p + names::deepseek_shared("up_proj"),
                             p + names::deepseek_shared("down_proj"), h, m.shared_intermediate);
        }
      }
    }
    layers_.push_back(std::move(w));
  }
  final_norm_ = tensor(names::kFinalNorm, {h});
  // Tied: HF ties lm_head to the embedding even when a copy is stored.
  if (c.tie_word_embeddings)
    lm_head_ = Matrix{embed_, c.vocab_size, h};
  else
    lm_head_ = matrix(names::kLmHead, c.vocab_size, h);
  progress_.reset();
}

CpuWeights::CpuWeights(const ModelConfig& config) : config_(config) {}

CpuWeights::~CpuWeights() = default;

}  // namespace warden::engine::cpu
