#include "warden/providers/caller_safe_error.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "warden/config/config.hpp"

namespace warden::providers {

namespace {

constexpr size_t kMaxMessageBytes = 512;
constexpr std::string_view kRedacted = "[redacted]";

bool ident_char(char c, bool param) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || (param && (c == '[' || c == ']'));
}

// `s` when it is a short identifier (a code like "rate_limit_exceeded"), else `fallback`.
std::string identifier_or(std::string s, std::string fallback, bool param = false) {
  if (s.empty() || s.size() > 64) return fallback;
  for (char c : s)
    if (!ident_char(c, param)) return fallback;
  return s;
}

void replace_all(std::string& s, std::string_view what) {
  if (what.empty()) return;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + kRedacted.size()))
    s.replace(pos, what.size(), kRedacted);
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '+' || c == '/' || c == '=' || c == '.';
}

// Credential-shaped runs: what follows "Bearer ", "sk-…" keys, and any 32+ character run
// of token characters mixing letters and digits (API keys, JWTs, hex secrets).
void mask_tokens(std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (!token_char(s[i])) {
      out += s[i++];
      continue;
    }
    size_t j = i;
    bool alpha = false, digit = false;
    while (j < s.size() && token_char(s[j])) {
      alpha |= (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z');
      digit |= s[j] >= '0' && s[j] <= '9';
      ++j;
    }
    std::string_view run(s.data() + i, j - i);
    const bool after_bearer = out.size() >= 7 && (out.compare(out.size() - 7, 7, "Bearer ") == 0 ||
                                                  out.compare(out.size() - 7, 7, "bearer ") == 0);
    const bool key_like = (run.size() >= 12 && (run.rfind("sk-", 0) == 0 || run.rfind("wk-", 0) == 0)) ||
                          (run.size() >= 32 && alpha && digit);
    if ((after_bearer && run != kRedacted) || key_like) out += kRedacted;
    else out.append(run);
    i = j;
  }
  s = std::move(out);
}

// Printable text only, at most kMaxMessageBytes, never cutting a UTF-8 sequence.
void bound(std::string& s) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() <= kMaxMessageBytes) return;
  size_t cut = kMaxMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
}

}  // namespace

Error caller_safe(Error e, const config::Config& cfg) {
  std::vector<std::string_view> secrets;
  for (const auto& [name, p] : cfg.providers) {
    if (p.api_key.size() >= 4) secrets.push_back(p.api_key);
    for (const auto& [h, v] : p.headers)
      if (v.size() >= 4) secrets.push_back(v);
  }
  for (auto s : secrets) replace_all(e.message, s);
  mask_tokens(e.message);
  bound(e.message);
  if (e.message.empty()) e.message = "The provider answered HTTP " + std::to_string(e.http_status) + ".";
  e.code = identifier_or(std::move(e.code), e.http_status >= 500 ? "upstream_error" : "invalid_request_error");
  e.type = identifier_or(std::move(e.type), "");
  e.param = identifier_or(std::move(e.param), "", true);
  return e;
}

}  // namespace warden::providers
