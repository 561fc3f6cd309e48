// `warden model make-tiny`: writes a random-weight model folder (see model/tiny_model.hpp).
#include <cstdio>
#include <stdexcept>
#include <optional>
#include <set>
#include <string>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/engine/model/tiny_model.hpp"

namespace warden::cli {

namespace {

constexpr const char* kUsage =
    "usage: warden model make-tiny --out DIR [--arch qwen2|llama|deepseek-moe|deepseek-v2|deepseek-v3|qwen2-moe]\n"
    "         [--preset bench-100m|r1-distill-qwen-1.5b|r1-distill-llama-8b|deepseek-v2-lite] [--config FILE]\n"
    "         [--seed S] [--vocab qwen|deepseek|tiny|none] [--dtype bf16|f16|f32|f8] [--shard-kb N]\n"
    "         [--hidden N] [--layers N] [--heads N] [--kv-heads N] [--head-dim N] [--intermediate N]\n"
    "         [--vocab-size N] [--experts N] [--top-k N] [--shared-experts N] [--moe-intermediate N]\n"
    "         [--first-dense N] [--tie|--untie] [--qwen-tokenizer FILE]\n"
    "         [--decisive-routing]  (noaux_tc routers: correction bias 0.25 apart, no near-ties)\n";

int32_t to_int(const std::string& name, const std::string& v) {
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || n <= 0 || n > (1ll << 30)) throw std::invalid_argument("--" + name + " needs a positive integer");
  return int32_t(n);
}

int make_tiny(const Args& args) {
  const char* ints[] = {"hidden", "layers", "heads", "kv-heads", "head-dim", "intermediate", "vocab-size",
                        "experts", "top-k", "shared-experts", "moe-intermediate", "first-dense", "shard-kb"};
  std::set<std::string> values = {"arch", "out", "seed", "vocab", "config", "preset", "dtype", "qwen-tokenizer"};
  for (auto n : ints) values.insert(n);
  CliArgs a(args, values, {"tie", "untie", "help", "decisive-routing"});
  if (a.flag("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  engine::TinyModelOptions o;
  o.out_dir = a.get_or("out", "");
  if (o.out_dir.empty()) throw std::invalid_argument(std::string("--out DIR is required\n") + kUsage);
  o.arch = a.get_or("arch", "qwen2");
  o.preset = a.get_or("preset", "");
  o.config_file = a.get_or("config", "");
  o.vocab = a.get_or("vocab", "qwen");
  o.qwen_tokenizer_json = a.get_or("qwen-tokenizer", "");
  if (auto s = a.get("seed")) o.seed = std::stoull(*s);
  const std::string dtype = a.get_or("dtype", "bf16");
  if (dtype == "bf16") o.dtype = engine::DType::BF16;
  else if (dtype == "f16") o.dtype = engine::DType::F16;
  else if (dtype == "f32") o.dtype = engine::DType::F32;
  else if (dtype == "f8") o.dtype = engine::DType::F8_E4M3;  // DeepSeek-V3-style block-scaled e4m3
  else throw std::invalid_argument("--dtype must be bf16, f16, f32 or f8");
  auto opt = [&](const char* name, std::optional<int32_t>& field) {
    if (auto v = a.get(name)) field = to_int(name, *v);
  };
  opt("hidden", o.hidden);
  opt("layers", o.layers);
  opt("heads", o.heads);
  opt("kv-heads", o.kv_heads);
  opt("head-dim", o.head_dim);
  opt("intermediate", o.intermediate);
  opt("vocab-size", o.vocab_size);
  opt("experts", o.experts);
  opt("top-k", o.top_k);
  opt("shared-experts", o.shared_experts);
  opt("moe-intermediate", o.moe_intermediate);
  opt("first-dense", o.first_dense);
  if (auto v = a.get("shard-kb")) o.max_shard_bytes = size_t(to_int("shard-kb", *v)) << 10;
  if (a.flag("tie") && a.flag("untie")) throw std::invalid_argument("--tie and --untie exclude each other");
  if (a.flag("tie")) o.tie = true;
  if (a.flag("untie")) o.tie = false;
  o.decisive_routing = a.flag("decisive-routing");

  const engine::ModelConfig c = engine::write_tiny_model(o);
  std::printf("wrote %s: %s, %d layers, hidden %d, vocab %d, %.1fM parameters, %s\n", o.out_dir.c_str(),
              c.architecture.c_str(), c.num_layers, c.hidden_size, c.vocab_size, double(c.parameter_count()) / 1e6,
              dtype.c_str());
  return 0;
}

}  // namespace

int model(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "make-tiny") return make_tiny(Args(args.begin() + 1, args.end()));
  std::fprintf(stderr, "warden model: unknown subcommand '%s'\n%s", args[0].c_str(), kUsage);
  return 2;
}

}  // namespace warden::cli
