#include "warden/policy/limits/token_counter.hpp"

#include <filesystem>
#include <map>
#include <mutex>

#include "warden/config/config.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::policy {

int64_t EstimatingCounter::count(std::string_view text) const {
  int64_t ascii = 0, multi_lead = 0;
  for (unsigned char c : text) {
    if (c < 0x80) ++ascii;
    else if (c >= 0xC0) ++multi_lead;  // one per non-ASCII code point
  }
  return (ascii + 3) / 4 + multi_lead;
}

namespace {

class ExactCounter final : public TokenCounter {
 public:
  explicit ExactCounter(engine::Tokenizer tok) : tok_(std::move(tok)) {}
  int64_t count(std::string_view text) const override {
    return static_cast<int64_t>(tok_.count_tokens(text, /*parse_special=*/false));
  }
  const char* name() const override { return "tokenizer"; }

 private:
  engine::Tokenizer tok_;
};

void add_text(std::string_view text, const TokenCounter& counter, PromptSize& out) {
  out.bytes += static_cast<int64_t>(text.size());
  out.tokens += counter.count(text);
}

}  // namespace

PromptSize measure_prompt(const api::ChatRequest& req, const TokenCounter& counter) {
  PromptSize out;
  int64_t overhead = 0;
  for (const auto& m : req.messages) {
    overhead += kMessageOverheadTokens;
    for (const auto& part : m.content) {
      if (part.type == api::ContentPart::Type::Text) add_text(part.text, counter, out);
      else add_text(part.raw_json, counter, out);  // images etc.: their JSON is a loose bound
    }
    if (m.reasoning_content) add_text(*m.reasoning_content, counter, out);
    for (const auto& tc : m.tool_calls) {
      add_text(tc.name, counter, out);
      add_text(tc.arguments, counter, out);
    }
  }
  for (const auto& t : req.tools) {
    overhead += kMessageOverheadTokens;
    add_text(t.name, counter, out);
    add_text(t.description, counter, out);
    add_text(t.parameters_json, counter, out);
  }
  out.tokens += overhead;
  out.upper_bound_tokens = out.bytes + overhead;
  return out;
}

namespace {

const EstimatingCounter kEstimator;

// The loaded tokenizer for `path`, null when it does not load. Cached by path, size and
// mtime: a broken file is not re-read per request, a fixed one is picked up.
const TokenCounter* load_counter(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto mtime = ec ? fs::file_time_type{} : fs::last_write_time(path, ec);
  std::string key = path + '\x1f' + std::to_string(ec ? 0 : size) + '\x1f' +
                    std::to_string(mtime.time_since_epoch().count());
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<TokenCounter>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::unique_ptr<TokenCounter> counter;
    try {
      if (!ec) counter = std::make_unique<ExactCounter>(engine::Tokenizer::load(path));
    } catch (const std::exception&) {
      counter = nullptr;  // remembered for this version of the file
    }
    it = cache.emplace(std::move(key), std::move(counter)).first;
  }
  return it->second.get();
}

}  // namespace

PromptCounter prompt_counter_for(const config::Config& cfg, const std::string& alias) {
  PromptCounter out;
  out.counter = &kEstimator;
  out.source = "upper bound of one token per byte: no tokenizer is known for this model";
  const auto* route = cfg.model(alias);
  if (!route || route->targets.empty()) return out;
  std::string path, provider_name;
  bool configured = false;
  for (const auto& target : route->targets) {
    const auto* provider = cfg.provider(target.provider);
    if (!provider) return out;
    std::string p;
    if (!provider->tokenizer.empty()) p = provider->tokenizer;
    else if (provider->type == config::ProviderType::Local && !provider->model_dir.empty())
      p = (std::filesystem::path(provider->model_dir) / "tokenizer.json").string();
    if (p.empty()) return out;
    if (!path.empty() && p != path) {
      out.source = "upper bound of one token per byte: the targets of '" + alias + "' use different tokenizers";
      return out;
    }
    path = p;
    provider_name = target.provider;
    configured |= !provider->tokenizer.empty();
  }
  if (const auto* counter = load_counter(path)) {
    out.counter = counter;
    out.exact = true;
    out.source = "counted exactly by the tokenizer of provider '" + provider_name + "'";
  } else if (configured) {
    out.unavailable = true;
    out.source = "the tokenizer of provider '" + provider_name + "' does not load";
  }
  return out;
}

const TokenCounter& counter_for(const config::Config& cfg, const std::string& alias) {
  return *prompt_counter_for(cfg, alias).counter;
}

}  // namespace warden::policy
