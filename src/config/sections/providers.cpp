// `providers:` section.
#include <filesystem>

#include "sections.hpp"

namespace warden::config::sections {

namespace {

// scheme://host[:port][/prefix] with scheme http or https.
bool valid_base_url(std::string_view url, std::string& why) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) rest = url.substr(8);
  else if (url.rfind("http://", 0) == 0) rest = url.substr(7);
  else {
    why = "must start with http:// or https://";
    return false;
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) {
    why = "has no host";
    return false;
  }
  if (authority.find('@') != std::string_view::npos) {
    why = "must not carry credentials (use api_key)";
    return false;
  }
  std::string err;
  if (authority.find(':') != std::string_view::npos && authority.front() != '[') {
    if (!parse_host_port(authority, &err)) {
      why = "bad host:port (" + err + ")";
      return false;
    }
  }
  if (url.find_first_of("?# ") != std::string_view::npos) {
    why = "must not contain a query, fragment or space";
    return false;
  }
  return true;
}

}  // namespace

void parse_providers(MapReader& root, Config& cfg) {
  auto all = root.map("providers");
  for (const auto& entry : all.entries()) {
    MapReader m(all.ctx(), entry.value, all.field(entry.key), entry.value_pos);
    ProviderConfig p;
    p.name = entry.key;
    p.pos = entry.key_pos;
    if (!m.has("type")) m.ctx().error(entry.key_pos, m.field("type") + ": required (openai | anthropic | local)");
    m.choice("type", p.type,
             {{"openai", ProviderType::OpenAI}, {"anthropic", ProviderType::Anthropic}, {"local", ProviderType::Local}});

    // Remote fields.
    if (m.str("base_url", p.base_url)) {
      std::string why;
      while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
      if (!valid_base_url(p.base_url, why)) m.ctx().error(m.get("base_url")->value_pos, m.field("base_url") + ": " + why);
    }
    m.str("api_key", p.api_key);
    if (m.str("ca_file", p.ca_file)) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p.ca_file, ec))
        m.ctx().error(m.get("ca_file")->value_pos, m.field("ca_file") + ": file not found: " + p.ca_file);
    }
    if (m.str("tokenizer", p.tokenizer) && !p.tokenizer.empty()) {
      // A Hugging Face tokenizer.json: exact prompt counts for this provider's models
      // (empty, e.g. an unset ${VAR:-}: none).
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p.tokenizer, ec))
        m.ctx().error(m.get("tokenizer")->value_pos, m.field("tokenizer") + ": file not found: " + p.tokenizer);
    }
    {
      auto t = m.map("timeouts");
      t.integer("connect_ms", p.timeouts.connect_ms, 1, 3'600'000);
      t.integer("first_byte_ms", p.timeouts.first_byte_ms, 1, 86'400'000);
      t.integer("idle_ms", p.timeouts.idle_ms, 1, 86'400'000);
      t.integer("total_ms", p.timeouts.total_ms, 1, 86'400'000);
    }
    m.choice("reasoning_echo", p.reasoning_echo,
             {{"required", ReasoningEcho::Required}, {"forbidden", ReasoningEcho::Forbidden}, {"strip", ReasoningEcho::Strip}});
    m.choice("user_field", p.user_field,
             {{"user_id", std::string("user_id")}, {"user", std::string("user")}, {"none", std::string()}});
    m.integer("max_connections", p.max_connections, 1, 1'000'000);
    m.str_map("headers", p.headers);

    // Local engine fields.
    m.str("model_dir", p.model_dir);
    if (m.str("device", p.device)) {
      bool ok = p.device == "auto" || p.device == "cpu" ||
                (p.device.rfind("cuda", 0) == 0 &&
                 (p.device.size() == 4 || (p.device[4] == ':' && p.device.size() > 5 &&
                                           p.device.find_first_not_of("0123456789", 5) == std::string::npos)));
      if (!ok) m.ctx().error(m.get("device")->value_pos, m.field("device") + ": expected auto, cpu or cuda:N");
    }
    m.integer("tensor_parallel", p.tensor_parallel, 1, 64);
    m.integer("max_num_seqs", p.max_num_seqs, 1, 65536);
    m.integer("max_num_batched_tokens", p.max_num_batched_tokens, 1, 1 << 20);
    m.integer("max_model_len", p.max_model_len, 0, int64_t{1} << 30);
    {
      auto k = m.map("kv_cache");
      k.integer("block_tokens", p.kv_cache.block_tokens, 1, 1024);
      k.number("gpu_memory_fraction", p.kv_cache.gpu_memory_fraction, 0.01, 1.0);
      k.boolean("prefix_caching", p.kv_cache.prefix_caching);
      k.integer("num_blocks", p.kv_cache.num_blocks, 0, int64_t{1} << 32);
    }

    if (m.has("type")) {
      if (p.type == ProviderType::Local) {
        if (p.model_dir.empty()) m.ctx().error(entry.key_pos, m.field("model_dir") + ": required for a local provider");
        for (const char* remote_only : {"base_url", "api_key", "ca_file"})
          if (m.has(remote_only))
            m.ctx().error(m.get(remote_only)->key_pos, m.field(remote_only) + ": not used by a local provider");
      } else {
        if (p.type == ProviderType::Anthropic && p.base_url.empty()) p.base_url = "https://api.anthropic.com";
        if (p.base_url.empty()) m.ctx().error(entry.key_pos, m.field("base_url") + ": required for an openai provider");
        for (const char* local_only : {"model_dir", "device", "tensor_parallel", "max_num_seqs",
                                       "max_num_batched_tokens", "max_model_len", "kv_cache"})
          if (m.has(local_only))
            m.ctx().error(m.get(local_only)->key_pos, m.field(local_only) + ": only used by a local provider");
      }
    }
    cfg.providers[p.name] = std::move(p);
  }
}

}  // namespace warden::config::sections
