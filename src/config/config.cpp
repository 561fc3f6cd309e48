// load_config: YAML text → validated immutable Config, or every diagnostic found.
#include "warden/config/config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sections/sections.hpp"
#include "warden/config/reader.hpp"

namespace warden::config {

namespace s = sections;

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<HostPort> {
    if (error) *error = std::move(msg);
    return std::nullopt;
  };
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("expected HOST:PORT, missing ']' in IPv6 address");
    hp.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("expected [IPv6]:PORT");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT (e.g. 127.0.0.1:8080)");
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return fail("IPv6 addresses need brackets: [::1]:8080");
    port_text = text.substr(colon + 1);
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  for (char c : hp.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_' || c == '%'))
      return fail("bad host in listen address");
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string_view::npos)
    return fail("bad port (expected 0-65535)");
  int port = std::stoi(std::string(port_text));
  if (port > 65535) return fail("bad port (expected 0-65535)");
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

const char* to_string(ProviderType t) {
  switch (t) {
    case ProviderType::OpenAI: return "openai";
    case ProviderType::Anthropic: return "anthropic";
    case ProviderType::Local: return "local";
  }
  return "?";
}

const char* to_string(ReasoningEcho r) {
  switch (r) {
    case ReasoningEcho::Required: return "required";
    case ReasoningEcho::Forbidden: return "forbidden";
    case ReasoningEcho::Strip: return "strip";
  }
  return "?";
}

bool ProviderConfig::operator==(const ProviderConfig& o) const {
  auto tie = [](const ProviderConfig& p) {
    return std::tie(p.name, p.type, p.base_url, p.api_key, p.ca_file, p.timeouts.connect_ms, p.timeouts.first_byte_ms,
                    p.timeouts.idle_ms, p.timeouts.total_ms, p.reasoning_echo, p.user_field, p.tokenizer, p.max_connections, p.headers,
                    p.model_dir, p.device, p.tensor_parallel, p.max_num_seqs, p.max_num_batched_tokens,
                    p.max_model_len, p.kv_cache.block_tokens,
                    p.kv_cache.gpu_memory_fraction, p.kv_cache.prefix_caching, p.kv_cache.num_blocks);
  };
  return tie(*this) == tie(o);
}

const ProviderConfig* Config::provider(std::string_view name) const {
  auto it = providers.find(std::string(name));
  return it == providers.end() ? nullptr : &it->second;
}

const ModelRoute* Config::model(std::string_view alias) const {
  auto it = models.find(std::string(alias));
  return it == models.end() ? nullptr : &it->second;
}

const Team* Config::team(std::string_view name) const {
  auto it = teams.find(std::string(name));
  return it == teams.end() ? nullptr : &it->second;
}

const KeyEntry* Config::key_by_sha256(std::string_view hex) const {
  for (const auto& k : keys)
    if (k.sha256 == hex) return &k;
  return nullptr;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LoadResult load_config_text(std::string_view yaml, const std::string& file_name, const EnvLookup& env) {
  LoadResult result;
  ParseContext ctx(file_name, env);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    ctx.error({e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
    result.diagnostics = std::move(ctx.diagnostics());
    return result;
  } catch (const std::exception& e) {
    ctx.error({1, 1}, std::string("cannot parse YAML: ") + e.what());
    result.diagnostics = std::move(ctx.diagnostics());
    return result;
  }

  // An empty or comment-only file parses as nothing: refusing it (like any invalid file)
  // keeps a half-saved edit from swapping in a gateway with no keys and no models.
  if (!root || root.IsNull() || (root.IsMap() && root.size() == 0)) {
    ctx.error({1, 1}, "the config is empty (no sections): nothing to serve");
    result.diagnostics = std::move(ctx.diagnostics());
    return result;
  }

  auto cfg = std::make_shared<Config>();
  cfg->source_file = file_name;
  cfg->loaded_at = std::chrono::system_clock::now();
  try {
    MapReader top(ctx, root, "", Position{1, 1});
    top.str("state_dir", cfg->state_dir);
    // Order matters only for cross-references, which run after every section is read.
    s::parse_server(top, *cfg);
    s::parse_providers(top, *cfg);
    s::parse_models(top, *cfg);
    s::parse_routing(top, *cfg);
    s::parse_pricing(top, *cfg);
    s::parse_teams(top, *cfg);
    s::parse_keys(top, *cfg);
    s::parse_dlp(top, *cfg);
    s::parse_guardrails(top, *cfg);
    s::parse_audit(top, *cfg);
    s::parse_telemetry(top, *cfg);
    s::parse_cache(top, *cfg);
    top.finish();
    s::check_models(ctx, *cfg);
    s::check_routing(ctx, *cfg);
    s::check_teams(ctx, *cfg);
    s::check_keys(ctx, *cfg);
  } catch (const std::exception& e) {
    // yaml-cpp can throw on odd documents (e.g. aliases to incompatible nodes).
    ctx.error({1, 1}, std::string("cannot read config: ") + e.what());
  }

  if (ctx.has_errors()) {
    result.diagnostics = std::move(ctx.diagnostics());
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.col) < std::tie(b.line, b.col);
    });
    return result;
  }
  result.config = std::move(cfg);
  return result;
}

LoadResult load_config(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back({path, 1, 1, "cannot open config file"});
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), path, env);
}

}  // namespace warden::config
