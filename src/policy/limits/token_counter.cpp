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

const TokenCounter& counter_for(const config::Config& cfg, const std::string& alias) {
  static const EstimatingCounter estimator;
  const auto* route = cfg.model(alias);
  if (!route) return estimator;
  std::string tokenizer_path;
  for (const auto& target : route->targets) {
    const auto* provider = cfg.provider(target.provider);
    if (!provider || provider->type != config::ProviderType::Local || provider->model_dir.empty()) return estimator;
    std::string p = (std::filesystem::path(provider->model_dir) / "tokenizer.json").string();
    if (!tokenizer_path.empty() && p != tokenizer_path) return estimator;
    tokenizer_path = p;
  }
  if (tokenizer_path.empty()) return estimator;
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<TokenCounter>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(tokenizer_path);
  if (it == cache.end()) {
    std::unique_ptr<TokenCounter> counter;
    try {
      counter = std::make_unique<ExactCounter>(engine::Tokenizer::load(tokenizer_path));
    } catch (const std::exception&) {
      counter = nullptr;  // remembered: don't retry a broken file per request
    }
    it = cache.emplace(tokenizer_path, std::move(counter)).first;
  }
  return it->second ? *it->second : static_cast<const TokenCounter&>(estimator);
}

}  // namespace warden::policy
