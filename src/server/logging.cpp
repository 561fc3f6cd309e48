#include "logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "errors.hpp"
#include "server_state.hpp"

namespace warden::server {

namespace {

std::shared_ptr<spdlog::logger> g_access_text;
std::shared_ptr<spdlog::logger> g_access_json;

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (value.empty()) {
    out += '-';
    return;
  }
  bool plain = value.find_first_of(" \"=\\") == std::string_view::npos;
  if (plain) {
    for (char c : value) out += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  } else {
    append_json_string(out, value);
  }
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void init_logging() {
  auto err_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto main = std::make_shared<spdlog::logger>("warden", err_sink);
  main->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  main->flush_on(spdlog::level::info);
  spdlog::set_default_logger(main);

  auto out_sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  g_access_text = std::make_shared<spdlog::logger>("access", out_sink);
  g_access_text->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ access%v", spdlog::pattern_time_type::utc);
  // Separate sinks: a sink owns its formatter, and the two formats differ.
  g_access_json = std::make_shared<spdlog::logger>("access_json", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  g_access_json->set_pattern("%v");
}

void write_access_log(const config::AccessLogConfig& cfg, const AccessRecord& r) {
  if (!cfg.enabled || !g_access_text) return;
  const AccessLog empty;
  const AccessLog& f = r.fields ? *r.fields : empty;
  std::string line;
  line.reserve(256);
  char num[64];
  if (cfg.format == config::AccessLogFormat::Json) {
    line += R"({"ts":")";
    line += iso8601_utc(std::chrono::system_clock::now());
    line += R"(","type":"access","listener":")";
    line += r.listener;
    line += R"(","request_id":)";
    append_json_string(line, r.request_id);
    line += R"(,"method":)";
    append_json_string(line, r.method);
    line += R"(,"path":)";
    append_json_string(line, r.path);
    line += R"(,"peer":)";
    append_json_string(line, r.peer);
    line += R"(,"model":)";
    if (f.alias.empty()) line += "null";
    else append_json_string(line, f.alias);
    line += R"(,"target":)";
    if (f.target.empty()) line += "null";
    else append_json_string(line, f.target);
    std::snprintf(num, sizeof num, R"(,"status":%d,"latency_ms":%.3f)", r.status, r.latency_ms);
    line += num;
    line += R"(,"prompt_tokens":)";
    line += f.prompt_tokens >= 0 ? std::to_string(f.prompt_tokens) : "null";
    line += R"(,"completion_tokens":)";
    line += f.completion_tokens >= 0 ? std::to_string(f.completion_tokens) : "null";
    line += R"(,"attempts":)";
    line += std::to_string(f.attempts);
    line += R"(,"error_code":)";
    if (f.error_code.empty()) line += "null";
    else append_json_string(line, f.error_code);
    line += R"(,"client_gone":)";
    line += r.client_gone ? "true" : "false";
    line += '}';
    g_access_json->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
    return;
  }
  append_field(line, "id", r.request_id);
  append_field(line, "method", r.method);
  append_field(line, "path", r.path);
  std::snprintf(num, sizeof num, " status=%d latency_ms=%.1f", r.status, r.latency_ms);
  line += num;
  append_field(line, "model", f.alias);
  append_field(line, "target", f.target);
  if (f.prompt_tokens >= 0 || f.completion_tokens >= 0) {
    std::snprintf(num, sizeof num, " tokens=%lld/%lld", static_cast<long long>(f.prompt_tokens),
                  static_cast<long long>(f.completion_tokens));
    line += num;
  } else {
    line += " tokens=-";
  }
  line += " attempts=" + std::to_string(f.attempts);
  append_field(line, "error", f.error_code);
  append_field(line, "peer", r.peer);
  if (r.listener != "main") append_field(line, "listener", r.listener);
  if (r.client_gone) line += " client_gone=1";
  g_access_text->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace warden::server
