#include "warden/policy/dlp/dlp_engine.hpp"

#include <hs/hs.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <cctype>
#include <map>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "warden/config/config.hpp"
#include "warden/policy/normalize.hpp"

namespace warden::policy {

// Detectors with a pattern go into the Hyperscan database (each has a literal anchor —
// '@', "sk-", "-----BEGIN" ... — so the scan runs at memory speed). The digit-shaped ones
// (cards, phones, SSN, IPv4, IBAN) have no literal to anchor on and slowed the whole
// database ~50x, so they come from one hand-written pass over digit runs instead
// (scan_numeric), validated the same way.
std::vector<Detector> builtin_detectors() {
  return {
      {"email", "", "EMAIL", R"([A-Za-z0-9._%+\-]@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})", Validator::Email, ""},
      {"phone", "", "PHONE", "", Validator::PhoneUs, ""},
      {"credit_card", "", "CREDIT_CARD", "", Validator::Luhn, ""},
      {"iban", "", "IBAN", "", Validator::Iban, ""},
      {"ssn", "", "SSN", "", Validator::Ssn, ""},
      {"ipv4", "", "IPV4", "", Validator::Ipv4, ""},
      {"aws_access_key", "secrets", "AWS_KEY", R"((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})", Validator::Aws, ""},
      {"github_token", "secrets", "GITHUB_TOKEN", R"((?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22}))",
       Validator::Token, ""},
      {"api_key", "secrets", "API_KEY", R"(sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20})", Validator::Token, ""},
      {"warden_key", "secrets", "API_KEY", R"(wk-[A-Za-z0-9_\-]{32})", Validator::Token, ""},
      {"private_key", "secrets", "PRIVATE_KEY", R"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)", Validator::Pem, ""},
      {"jwt", "secrets", "JWT", R"(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8})", Validator::Jwt, ""},
  };
}

bool luhn_valid(std::string_view s) {
  int sum = 0, n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (!std::isdigit(static_cast<unsigned char>(*it))) continue;
    int d = *it - '0';
    if (n % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++n;
  }
  return n >= 13 && n <= 19 && sum % 10 == 0;
}

bool iban_valid(std::string_view text) {
  std::string s;
  for (char c : text)
    if (c != ' ') s += c;
  if (s.size() < 15 || s.size() > 34) return false;
  std::string rearranged = s.substr(4) + s.substr(0, 4);
  int mod = 0;
  for (char c : rearranged) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      mod = (mod * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      int v = c - 'A' + 10;
      mod = (mod * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return mod == 1;
}

namespace {

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool ssn_valid(std::string_view s) {
  int area = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  int group = (s[4] - '0') * 10 + (s[5] - '0');
  int serial = std::atoi(std::string(s.substr(7, 4)).c_str());
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool ipv4_context_ok(std::string_view text, size_t start, size_t end) {
  // Not part of a longer dotted run (1.2.3.4.5, OIDs) and not a version ("v1.2.3.4").
  if (start > 0) {
    char b = text[start - 1];
    if (b == '.' || is_word(b)) return false;
  }
  if (end < text.size() && (is_word(text[end]) || (text[end] == '.' && end + 1 < text.size() && is_digit(text[end + 1]))))
    return false;
  size_t from = start >= 12 ? start - 12 : 0;
  std::string before(text.substr(from, start - from));
  for (auto& c : before) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return before.find("version") == std::string::npos && before.find("ver ") == std::string::npos;
}

bool ipv4_shape(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j == i || j - i > 3) return false;
    if (std::atoi(std::string(s.substr(i, j - i)).c_str()) > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

int digit_count(std::string_view s) {
  int n = 0;
  for (char c : s) n += is_digit(c) ? 1 : 0;
  return n;
}

bool card_prefix_ok(std::string_view s) {
  for (char c : s)
    if (is_digit(c)) return c >= '2' && c <= '6';
  return false;
}

// The start of the match that ends at `to` for a detector whose database entry has no
// start-of-match, or npos when the text there does not have the detector's shape.
size_t find_start(const Detector& d, std::string_view text, size_t to) {
  constexpr size_t npos = std::string_view::npos;
  switch (d.validator) {
    case Validator::Email: {
      size_t at = text.rfind('@', to - 1);
      if (at == npos || at == 0 || to - at > 255) return npos;
      size_t s = at;
      while (s > 0 && at - s < 64) {
        char c = text[s - 1];
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-') --s;
        else break;
      }
      while (s < at && (text[s] == '.' || text[s] == '-')) ++s;  // a local part starts with a letter/digit
      return s < at ? s : npos;
    }
    case Validator::Ssn: return to >= 11 ? to - 11 : npos;
    case Validator::Aws: return to >= 20 ? to - 20 : npos;
    case Validator::PhoneUs:
      if (to >= 14 && text[to - 14] == '(' && text[to - 10] == ')') return to - 14;
      return to >= 12 ? to - 12 : npos;
    case Validator::PhoneIntl: {
      size_t lo = to > 24 ? to - 24 : 0;
      size_t plus = text.rfind('+', to - 1);
      return plus == npos || plus < lo ? npos : plus;
    }
    case Validator::Luhn: {
      // Back over digits with single space/dash separators, at most 19 digits.
      size_t s = to;
      int digits = 0;
      while (s > 0) {
        char c = text[s - 1];
        if (is_digit(c)) {
          if (++digits > 19) return npos;
          --s;
        } else if ((c == ' ' || c == '-') && s >= 2 && is_digit(text[s - 2]) && s < to && is_digit(text[s])) {
          --s;
        } else {
          break;
        }
      }
      return s;
    }
    case Validator::Ipv4: {
      size_t s = to;
      while (s > 0 && to - s < 15 && (is_digit(text[s - 1]) || text[s - 1] == '.')) --s;
      return s;
    }
    case Validator::Iban: {
      // The leftmost "CCdd" at a word start within the run of [A-Z0-9 ] ending here.
      size_t lo = to;
      while (lo > 0 && to - lo < 42 && (std::isupper(static_cast<unsigned char>(text[lo - 1])) || is_digit(text[lo - 1]) || text[lo - 1] == ' ')) --lo;
      for (size_t s = lo; s + 4 <= to; ++s) {
        if ((s > 0 && is_word(text[s - 1])) || !std::isupper(static_cast<unsigned char>(text[s])) ||
            !std::isupper(static_cast<unsigned char>(text[s + 1])) || !is_digit(text[s + 2]) || !is_digit(text[s + 3]))
          continue;
        if (iban_valid(text.substr(s, to - s))) return s;
      }
      return npos;
    }
    case Validator::Token:
    case Validator::Jwt: {
      size_t s = to;
      while (s > 0 && (is_word(text[s - 1]) || text[s - 1] == '-' || (d.validator == Validator::Jwt && text[s - 1] == '.'))) --s;
      return s;
    }
    case Validator::Pem: {
      size_t s = text.rfind("-----BEGIN ", to - 1);
      return s == npos ? npos : s;
    }
    case Validator::Som: return npos;
  }
  return npos;
}

// Validates [start, to) for the detector; may move `end` (tokens run on, PEM blocks).
bool validate(const Detector& d, std::string_view text, size_t start, size_t to, size_t& end) {
  std::string_view s = text.substr(start, to - start);
  bool word_before = start > 0 && is_word(text[start - 1]);
  bool word_after = to < text.size() && is_word(text[to]);
  end = to;
  switch (d.validator) {
    case Validator::Email: return !word_after;
    case Validator::Ssn: return !word_before && !word_after && ssn_valid(s);
    case Validator::Aws: return !word_before && !word_after;
    case Validator::PhoneUs:
      return !(word_before && s.front() != '(') && !word_after && digit_count(s) == 10 &&
             (s.front() == '(' || (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && !is_digit(s[3])));
    case Validator::PhoneIntl: {
      if (word_before || (to < text.size() && is_digit(text[to]))) return false;
      int n = digit_count(s);
      return n >= 8 && n <= 15;
    }
    case Validator::Luhn:
      return !word_before && !word_after && luhn_valid(s) && card_prefix_ok(s);
    case Validator::Ipv4: return ipv4_shape(s) && ipv4_context_ok(text, start, to);
    case Validator::Iban: return !word_after && iban_valid(s);
    case Validator::Token:
    case Validator::Jwt: {
      // Prefix at the token start (the patterns' anchors): "xsk-..." is not a key.
      static constexpr std::string_view kPrefixes[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk-", "wk-", "eyJ"};
      bool prefixed = false;
      for (auto p : kPrefixes) prefixed |= s.substr(0, p.size()) == p;
      if (!prefixed) return false;
      while (end < text.size() && (is_word(text[end]) || text[end] == '-')) ++end;
      return true;
    }
    case Validator::Pem: {
      auto e = text.find("PRIVATE KEY-----", to);
      auto endline = e == std::string_view::npos ? e : text.rfind("-----END", e);
      if (endline != std::string_view::npos && endline >= to) end = e + 16;
      return true;
    }
    case Validator::Som: return true;
  }
  return false;
}

// ---- digit-shaped detectors -----------------------------------------------------------

struct Group {
  size_t start, end;  // digits only
  char sep_before;    // separator between the previous group and this one (0 for the first)
};

// Next digit at or after i; skips 8 bytes at a time while none of them is a digit.
size_t next_digit(std::string_view t, size_t i) {
  const size_t n = t.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, t.data() + i, 8);
    // Per byte, on the low 7 bits (no carries cross bytes): b >= '0' <=> b + 0x50 has
    // bit 7 set; b <= '9' <=> b + 0x46 has bit 7 clear; and the byte must be ASCII.
    const uint64_t w7 = w & 0x7F7F7F7F7F7F7F7FULL;
    const uint64_t lo_ok = (w7 + 0x5050505050505050ULL) & 0x8080808080808080ULL;
    const uint64_t hi_ok = ~(w7 + 0x4646464646464646ULL) & 0x8080808080808080ULL;
    const uint64_t ascii = ~w & 0x8080808080808080ULL;
    if (ascii & hi_ok & lo_ok) break;
    i += 8;
  }
  while (i < n && !is_digit(t[i])) ++i;
  return i;
}

bool sep_char(char c) { return c == ' ' || c == '-' || c == '.'; }

void scan_numeric(std::string_view t, const std::vector<int>& ids, std::vector<DlpMatch>& out) {
  // ids: detector index for phone, credit_card, iban, ssn, ipv4 (-1 = absent)
  const int kPhone = ids[0], kCard = ids[1], kIban = ids[2], kSsn = ids[3], kIp = ids[4];
  const size_t n = t.size();
  std::vector<Group> g;
  size_t i = 0;
  while (true) {
    i = next_digit(t, i);
    if (i >= n) break;
    // Groups of digits joined by single separators (and the ")" of "(415) 555").
    g.clear();
    size_t p = i;
    char sep = 0;
    while (p < n && g.size() < 12) {
      size_t q = p;
      while (q < n && is_digit(t[q])) ++q;
      g.push_back({p, q, sep});
      if (q + 1 < n && sep_char(t[q]) && is_digit(t[q + 1])) {
        sep = t[q];
        p = q + 1;
      } else if (q + 2 < n && t[q] == ')' && t[q + 1] == ' ' && is_digit(t[q + 2])) {
        sep = ')';
        p = q + 2;
      } else {
        p = q;
        break;
      }
    }
    const size_t run_end = g.back().end;
    size_t run_digits = 0;
    for (const auto& x : g) run_digits += x.end - x.start;
    // Printed cards are one block, or 4-4-4-4 (13/16/19 digits: 4-4-4-1, 4-4-4-4-3) or
    // 4-6-5 / 4-6-4 (Amex, Diners); anything else (e.g. 4-4-4-4-2) is some other number.
    auto card_groups_ok = [&](size_t a, size_t k, int digits) {
      if (k == a) return true;
      if (g[a].end - g[a].start != 4) return false;
      if (k == a + 2 && g[a + 1].end - g[a + 1].start == 6) return digits == 15 || digits == 14;
      for (size_t m = a + 1; m < k; ++m)
        if (g[m].end - g[m].start != 4) return false;
      return digits == 13 || digits == 16 || digits == 19;
    };
    auto word_before = [&](size_t s) { return s > 0 && is_word(t[s - 1]); };
    auto word_after = [&](size_t e) { return e < n && is_word(t[e]); };
    auto len = [&](size_t k) { return g[k].end - g[k].start; };
    // Every digit-shaped detector needs at least 4 digits (1.1.1.1); IBAN is checked below.
    for (size_t a = 0; run_digits >= 4 && a < g.size(); ++a) {
      size_t s = g[a].start;
      // A window may not start right after a '.'-joined group (1.2.3.4.5) or inside a word.
      bool starts_clean = !word_before(s) && !(s > 0 && t[s - 1] == '.');
      // SSN ddd-dd-dddd
      if (kSsn >= 0 && a + 2 < g.size() && starts_clean && len(a) == 3 && len(a + 1) == 2 && len(a + 2) == 4 &&
          g[a + 1].sep_before == '-' && g[a + 2].sep_before == '-' && !word_after(g[a + 2].end) &&
          ssn_valid(t.substr(s, 11)))
        out.push_back({kSsn, s, g[a + 2].end});
      // IPv4 d.d.d.d
      if (kIp >= 0 && a + 3 < g.size() && g[a + 1].sep_before == '.' && g[a + 2].sep_before == '.' &&
          g[a + 3].sep_before == '.' && len(a) <= 3 && len(a + 1) <= 3 && len(a + 2) <= 3 && len(a + 3) <= 3) {
        size_t e = g[a + 3].end;
        if (ipv4_shape(t.substr(s, e - s)) && ipv4_context_ok(t, s, e)) out.push_back({kIp, s, e});
      }
      // Phones: +CC ... (8-15 digits), or North American 3-3-4 with separators.
      if (kPhone >= 0) {
        if (a == 0 && s > 0 && t[s - 1] == '+' && !(s > 1 && is_word(t[s - 2]))) {
          int digits = 0;
          size_t best = 0;
          for (size_t k = 0; k < g.size() && g[k].sep_before != '.'; ++k) {
            digits += static_cast<int>(len(k));
            if (digits > 15) break;
            if (digits >= 8 && !word_after(g[k].end)) best = g[k].end;
          }
          if (best) out.push_back({kPhone, s - 1, best});
        }
        if (a + 2 < g.size() && len(a) == 3 && len(a + 1) == 3 && len(a + 2) == 4 && g[a + 1].sep_before != 0 &&
            g[a + 2].sep_before != 0 && g[a + 2].sep_before != ')' && !word_after(g[a + 2].end)) {
          bool paren = g[a + 1].sep_before == ')' && s > 0 && t[s - 1] == '(';
          bool plain = g[a + 1].sep_before != ')' && starts_clean;
          if ((paren && !word_before(s - 1)) || plain) out.push_back({kPhone, paren ? s - 1 : s, g[a + 2].end});
        }
      }
      // Cards: 13-19 digits over whole groups joined by ' ' or '-', Luhn + issuer prefix.
      if (kCard >= 0 && starts_clean) {
        int digits = 0;
        size_t best = 0;
        for (size_t k = a; k < g.size(); ++k) {
          if (k > a && g[k].sep_before != ' ' && g[k].sep_before != '-') break;
          digits += static_cast<int>(len(k));
          if (digits > 19) break;
          if (digits >= 13 && !word_after(g[k].end) && card_groups_ok(a, k, digits) &&
              luhn_valid(t.substr(s, g[k].end - s)) && card_prefix_ok(t.substr(s, 1)))
            best = g[k].end;
        }
        if (best) out.push_back({kCard, s, best});
      }
    }
    // IBAN: two capitals right before the first group, then [A-Z0-9] in groups of up to 4.
    if (kIban >= 0 && i >= 2 && std::isupper(static_cast<unsigned char>(t[i - 2])) &&
        std::isupper(static_cast<unsigned char>(t[i - 1])) && !(i >= 3 && is_word(t[i - 3])) && len(0) >= 2) {
      size_t s = i - 2, e = s + 4, best = 0;
      size_t q = s + 4;
      int chars = 4;
      while (q < n && chars <= 34) {
        if (t[q] == ' ' && q + 1 < n && std::isalnum(static_cast<unsigned char>(t[q + 1]))) {
          ++q;
          continue;
        }
        if (!(std::isupper(static_cast<unsigned char>(t[q])) || is_digit(t[q]))) break;
        ++q;
        ++chars;
        e = q;
        if (chars >= 15 && !word_after(e) && iban_valid(t.substr(s, e - s))) best = e;
      }
      if (best) {
        out.push_back({kIban, s, best});
        if (best > run_end) {
          i = best;
          continue;
        }
      }
    }
    i = run_end;
  }
}

// Hyperscan scratch per thread, grown to fit any database it is used with.
struct ScratchHolder {
  hs_scratch_t* scratch = nullptr;
  ~ScratchHolder() { hs_free_scratch(scratch); }
};

hs_scratch_t* scratch_for(const hs_database_t* db) {
  thread_local ScratchHolder holder;
  // hs_alloc_scratch costs microseconds even when nothing grows: only call it for a
  // database this thread has not prepared its scratch for yet.
  thread_local std::vector<const hs_database_t*> prepared;
  for (auto* p : prepared)
    if (p == db) return holder.scratch;
  if (hs_alloc_scratch(db, &holder.scratch) != HS_SUCCESS) return nullptr;
  if (prepared.size() >= 64) prepared.clear();  // old snapshots' databases
  prepared.push_back(db);
  return holder.scratch;
}

struct Candidate {
  int id;
  unsigned long long from, to;
};

int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int, void* ctx) {
  auto* out = static_cast<std::vector<Candidate>*>(ctx);
  out->push_back({static_cast<int>(id), from, to});
  return 0;
}

int count_match(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  ++*static_cast<size_t*>(ctx);
  return 0;
}

}  // namespace

DlpEngine::DlpEngine(const std::vector<config::CustomDetector>& custom) : detectors_(builtin_detectors()) {
  for (const auto& c : custom) {
    std::string label;
    for (char ch : c.name) label += std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::toupper(ch)) : '_';
    detectors_.push_back({c.name, "", label, c.regex, Validator::Som, c.action});
  }
  std::vector<const char*> patterns;
  std::vector<unsigned> flags, ids;
  numeric_ids_ = {find("phone"), find("credit_card"), find("iban"), find("ssn"), find("ipv4")};
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if (detectors_[i].pattern.empty()) continue;
    patterns.push_back(detectors_[i].pattern.c_str());
    flags.push_back(detectors_[i].validator == Validator::Som ? HS_FLAG_SOM_LEFTMOST : 0u);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(patterns.data(), flags.data(), ids.data(), static_cast<unsigned>(patterns.size()),
                       HS_MODE_BLOCK, nullptr, &db_, &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "unknown error";
    // err->expression indexes the compiled patterns, not the detectors (some have none).
    std::string which = err && err->expression >= 0 && static_cast<size_t>(err->expression) < ids.size()
                            ? detectors_[ids[err->expression]].name
                            : "?";
    hs_free_compile_error(err);
    throw std::runtime_error("DLP detector '" + which + "': " + msg);
  }
}

DlpEngine::~DlpEngine() { hs_free_database(db_); }

int DlpEngine::find(std::string_view name) const {
  for (size_t i = 0; i < detectors_.size(); ++i)
    if (detectors_[i].name == name) return static_cast<int>(i);
  return -1;
}

size_t DlpEngine::scan_raw(std::string_view text) const {
  size_t n = 0;
  auto* scratch = scratch_for(db_);
  if (!scratch) return 0;
  hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0, scratch, count_match, &n);
  std::vector<DlpMatch> numeric;
  scan_numeric(text, numeric_ids_, numeric);
  return n + numeric.size();
}

std::vector<DlpMatch> DlpEngine::scan(std::string_view text) const {
  std::vector<DlpMatch> out;
  (void)scan(text, out);
  return out;
}

bool DlpEngine::scan(std::string_view original, std::vector<DlpMatch>& out) const {
  out.clear();
  // Detectors run over the normalised view (NFKC, zero-width and bidi controls removed),
  // so "jane\u200B@corp.example" or a card in full-width digits is still found; matches
  // are mapped back to the original bytes, which is what redaction replaces.
  const NormalizedText norm(original);
  if (!scan_view(norm.view(), out)) return false;
  if (!norm.identity())
    for (auto& m : out) {
      const size_t begin = norm.original_begin(m.start);
      m.end = norm.original_end(m.end);
      m.start = begin;
    }
  return true;
}

bool DlpEngine::scan_view(std::string_view text, std::vector<DlpMatch>& out) const {
  out.clear();
  if (text.empty()) return true;
  if (text.size() > std::numeric_limits<unsigned>::max()) return false;
  auto* scratch = scratch_for(db_);
  if (!scratch) return false;
  std::vector<Candidate> cands;
  if (hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0, scratch, on_match, &cands) != HS_SUCCESS)
    return false;
  std::vector<DlpMatch> valid;
  scan_numeric(text, numeric_ids_, valid);
  if (cands.empty() && valid.empty()) return true;
  for (const auto& c : cands) {
    const auto& d = detectors_[c.id];
    size_t to = static_cast<size_t>(c.to);
    size_t start = d.validator == Validator::Som ? static_cast<size_t>(c.from) : find_start(d, text, to);
    if (start == std::string_view::npos || start >= to) continue;
    size_t end = to;
    if (!validate(d, text, start, to, end)) continue;
    valid.push_back({c.id, start, end});
  }
  // Longest per (detector, start), then non-overlapping: earliest first, longer wins.
  std::sort(valid.begin(), valid.end(), [](const DlpMatch& a, const DlpMatch& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.end != b.end) return a.end > b.end;
    return a.detector < b.detector;
  });
  for (const auto& m : valid) {
    if (!out.empty() && m.start < out.back().end) {
      if (m.end > out.back().end && m.end - m.start > out.back().end - out.back().start) out.back() = m;
      continue;
    }
    out.push_back(m);
  }
  return true;
}

std::shared_ptr<const DlpEngine> engine_for(const config::Config& cfg) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const DlpEngine>> cache;
  std::string fingerprint;
  for (const auto& c : cfg.dlp.custom) fingerprint += c.name + '\x1f' + c.regex + '\x1f' + c.action + '\x1e';
  std::lock_guard lock(mu);
  auto it = cache.find(fingerprint);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const DlpEngine> engine;
  try {
    engine = std::make_shared<const DlpEngine>(cfg.dlp.custom);
  } catch (const std::exception& e) {
    spdlog::error("dlp: {}", e.what());
  }
  cache.emplace(fingerprint, engine);
  return engine;
}

}  // namespace warden::policy
