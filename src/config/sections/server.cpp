// `server:` section.
#include <filesystem>

#include "sections.hpp"

namespace warden::config::sections {

namespace {

void read_listen(MapReader& m, std::string_view key, std::optional<HostPort>& out) {
  std::string text;
  if (!m.str(key, text)) return;
  std::string err;
  auto hp = parse_host_port(text, &err);
  if (!hp) {
    m.ctx().error(m.get(key)->value_pos, m.field(key) + ": " + err);
    return;
  }
  out = *hp;
}

void require_file(MapReader& m, std::string_view key, const std::string& path) {
  std::error_code ec;
  if (!path.empty() && !std::filesystem::is_regular_file(path, ec))
    m.ctx().error(m.get(key)->value_pos, m.field(key) + ": file not found or not readable: " + path);
}

}  // namespace

void parse_server(MapReader& root, Config& cfg) {
  auto m = root.map("server");
  ServerConfig& s = cfg.server;
  s.pos = m.pos();
  std::optional<HostPort> listen;
  read_listen(m, "listen", listen);
  if (listen) s.listen = *listen;
  read_listen(m, "admin_listen", s.admin_listen);
  m.str("admin_token", s.admin_token);
  if (s.admin_listen && s.admin_token.empty())
    m.ctx().error(m.get("admin_listen")->value_pos,
                  m.field("admin_listen") + ": needs server.admin_token (the admin API is never open)");
  m.integer("threads", s.threads, 0, 1024);

  {
    auto l = m.map("limits");
    ServerLimits& lim = s.limits;
    l.integer("max_body_bytes", lim.max_body_bytes, 1, int64_t{1} << 34);
    l.integer("max_header_bytes", lim.max_header_bytes, 1024, 16 << 20);
    l.integer("header_timeout_ms", lim.header_timeout_ms, 1, 3'600'000);
    l.integer("body_timeout_ms", lim.body_timeout_ms, 1, 3'600'000);
    l.integer("idle_timeout_ms", lim.idle_timeout_ms, 1, 86'400'000);
    l.integer("max_connections", lim.max_connections, 1, 10'000'000);
    l.integer("drain_timeout_ms", lim.drain_timeout_ms, 0, 3'600'000);
  }

  auto read_tls = [&](std::string_view key) {
    auto t = m.map(key);
    TlsConfig tls;
    bool has_cert = t.str("cert", tls.cert);
    bool has_key = t.str("key", tls.key);
    if (!has_cert) t.ctx().error(t.pos(), t.field("cert") + ": required when " + std::string(key) + " is set");
    if (!has_key) t.ctx().error(t.pos(), t.field("key") + ": required when " + std::string(key) + " is set");
    if (has_cert) require_file(t, "cert", tls.cert);
    if (has_key) require_file(t, "key", tls.key);
    return tls;
  };
  if (m.has("tls")) s.tls = read_tls("tls");
  // The admin listener carries the admin token: `admin_tls: {cert, key}` serves it over
  // TLS with its own certificate, `admin_tls: main` with server.tls's.
  if (const auto* e = m.get("admin_tls")) {
    if (e->value.IsScalar()) {
      std::string v;
      m.str("admin_tls", v);
      if (v != "main") m.ctx().error(e->value_pos, m.field("admin_tls") + ": expected {cert, key} or 'main'");
      else if (!s.tls) m.ctx().error(e->value_pos, m.field("admin_tls") + ": 'main' needs server.tls");
      else s.admin_tls = s.tls;
    } else {
      s.admin_tls = read_tls("admin_tls");
    }
    if (!s.admin_listen) m.ctx().error(e->key_pos, m.field("admin_tls") + ": needs server.admin_listen");
  }

  if (m.has("access_log")) {
    auto a = m.map("access_log");
    a.boolean("enabled", s.access_log.enabled);
    a.choice("format", s.access_log.format,
             {{"text", AccessLogFormat::Text}, {"json", AccessLogFormat::Json}});
  }
}

}  // namespace warden::config::sections
