#include "split_pattern.hpp"

#include <string>

#include "code_point_classes.hpp"
#include "utf8.hpp"

namespace warden::engine::tok {

namespace {

// Pattern texts as they appear in the tokenizer.json files, after JSON unescaping and
// with literal CR/LF turned into \r / \n (DeepSeek writes them literally).
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDigitsRegex = R"(\p{N}{1,3})";
constexpr std::string_view kDeepSeekCjkRegex = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+";
constexpr std::string_view kDeepSeekMainRegex =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr size_t kNoMatch = 0;

// (?i:'s|'t|'re|'ve|'m|'ll|'d): ASCII case folding, plus U+017F (long s) which
// Oniguruma's case folding treats as 's'.
size_t match_contraction(const CodePoints& t, size_t i, size_t end) {
  if (t.cps[i] != '\'' || i + 1 >= end) return kNoMatch;
  auto lower = [](char32_t c) -> char32_t {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
  };
  const char32_t c1 = lower(t.cps[i + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
  if (i + 2 >= end) return kNoMatch;
  const char32_t c2 = lower(t.cps[i + 2]);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
  return kNoMatch;
}

size_t run_of(const CodePoints& t, size_t j, size_t end, uint16_t bits) {
  while (j < end && (t.cls[j] & bits)) ++j;
  return j;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+   — the shared whitespace tail of every pattern.
size_t match_whitespace(const CodePoints& t, size_t i, size_t end) {
  if (!(t.cls[i] & kSpace)) return kNoMatch;
  const size_t run_end = run_of(t, i, end, kSpace);
  // \s*[\r\n]+ : greedy \s* backs off to the last CR/LF of the run.
  for (size_t k = run_end; k > i; --k) {
    if (t.cls[k - 1] & kCrLf) return k;
  }
  // \s+(?!\S): the whole run at end of input, else the run minus its last space.
  if (run_end == end) return run_end;
  if (run_end - 1 > i) return run_end - 1;
  return run_end;  // \s+
}

size_t match_qwen_like(const CodePoints& t, size_t i, size_t end, size_t max_digits) {
  auto cls = [&](size_t k) -> uint16_t { return k < end ? t.cls[k] : 0; };
  const uint16_t c = t.cls[i];
  if (size_t m = match_contraction(t, i, end)) return m;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!(c & (kCrLf | kLetter | kNumber)) && (cls(i + 1) & kLetter)) return run_of(t, i + 1, end, kLetter);
  if (c & kLetter) return run_of(t, i, end, kLetter);
  // \p{N} or \p{N}{1,3}
  if (c & kNumber) {
    size_t j = i;
    while (j < end && j - i < max_digits && (t.cls[j] & kNumber)) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  auto other = [&](size_t k) { return k < end && !(t.cls[k] & (kSpace | kLetter | kNumber)); };
  size_t k = i;
  if (t.cps[i] == ' ' && other(i + 1)) k = i + 1;
  if (other(k)) {
    size_t j = k;
    while (other(j)) ++j;
    return run_of(t, j, end, kCrLf);
  }
  return match_whitespace(t, i, end);
}

size_t match_gpt2(const CodePoints& t, size_t i, size_t end) {
  // 's|'t|'re|'ve|'m|'ll|'d  (case-sensitive here)
  if (t.cps[i] == '\'' && i + 1 < end) {
    const char32_t c1 = t.cps[i + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
    if (i + 2 < end) {
      const char32_t c2 = t.cps[i + 2];
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
    }
  }
  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
  const size_t k = (t.cps[i] == ' ' && i + 1 < end) ? i + 1 : i;
  auto other = [&](size_t j) { return j < end && !(t.cls[j] & (kSpace | kLetter | kNumber)); };
  for (size_t start : {k, i}) {
    if (t.cls[start] & kLetter) return run_of(t, start, end, kLetter);
    if (t.cls[start] & kNumber) return run_of(t, start, end, kNumber);
    if (other(start)) {
      size_t j = start;
      while (other(j)) ++j;
      return j;
    }
    if (start == i) break;
  }
  // \s+(?!\S) | \s+
  if (!(t.cls[i] & kSpace)) return kNoMatch;
  const size_t run_end = run_of(t, i, end, kSpace);
  if (run_end == end || run_end - 1 == i) return run_end;
  return run_end - 1;
}

size_t match_deepseek_main(const CodePoints& t, size_t i, size_t end) {
  auto cls = [&](size_t k) -> uint16_t { return k < end ? t.cls[k] : 0; };
  const uint16_t c = t.cls[i];
  // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
  if ((c & kAsciiPunct) && (cls(i + 1) & kAsciiAlpha)) return run_of(t, i + 1, end, kAsciiAlpha);
  // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
  const bool optional_ok = !(c & (kCrLf | kLetter | kPunct | kSymbol));
  if (optional_ok && (cls(i + 1) & (kLetter | kMark))) return run_of(t, i + 1, end, kLetter | kMark);
  if (c & (kLetter | kMark)) return run_of(t, i, end, kLetter | kMark);
  //  ?[\p{P}\p{S}]+[\r\n]*
  size_t k = i;
  if (t.cps[i] == ' ' && (cls(i + 1) & (kPunct | kSymbol))) k = i + 1;
  if (cls(k) & (kPunct | kSymbol)) return run_of(t, run_of(t, k, end, kPunct | kSymbol), end, kCrLf);
  return match_whitespace(t, i, end);
}

}  // namespace

std::optional<SplitPattern> recognise_split_pattern(std::string_view regex) {
  std::string r;
  r.reserve(regex.size());
  for (char ch : regex) {
    if (ch == '\r') r += "\\r";
    else if (ch == '\n') r += "\\n";
    else r += ch;
  }
  if (r == kQwen2Regex) return SplitPattern::kQwen2;
  if (r == kLlama3Regex) return SplitPattern::kLlama3;
  if (r == kDigitsRegex) return SplitPattern::kDigits1To3;
  if (r == kDeepSeekCjkRegex) return SplitPattern::kDeepSeekCjk;
  if (r == kDeepSeekMainRegex) return SplitPattern::kDeepSeekMain;
  return std::nullopt;
}

void CodePoints::assign(std::string_view utf8) {
  cps.clear();
  cls.clear();
  offsets.clear();
  size_t i = 0;
  while (i < utf8.size()) {
    offsets.push_back(static_cast<uint32_t>(i));
    const char32_t cp = next_code_point(utf8, i);
    cps.push_back(cp);
    cls.push_back(classify(cp));
  }
  offsets.push_back(static_cast<uint32_t>(utf8.size()));
}

size_t match_at(SplitPattern p, const CodePoints& t, size_t i, size_t end) {
  switch (p) {
    case SplitPattern::kQwen2: return match_qwen_like(t, i, end, 1);
    case SplitPattern::kLlama3: return match_qwen_like(t, i, end, 3);
    case SplitPattern::kDigits1To3: {
      size_t j = i;
      while (j < end && j - i < 3 && (t.cls[j] & kNumber)) ++j;
      return j == i ? kNoMatch : j;
    }
    case SplitPattern::kDeepSeekCjk: {
      const size_t j = run_of(t, i, end, kDeepSeekCjk);
      return j == i ? kNoMatch : j;
    }
    case SplitPattern::kDeepSeekMain: return match_deepseek_main(t, i, end);
    case SplitPattern::kGpt2: return match_gpt2(t, i, end);
  }
  return kNoMatch;
}

void split_isolated(SplitPattern p, const CodePoints& t, size_t begin, size_t end,
                    std::vector<std::pair<uint32_t, uint32_t>>& out) {
  size_t gap = begin;
  size_t i = begin;
  while (i < end) {
    const size_t m = match_at(p, t, i, end);
    if (m == kNoMatch) {
      ++i;
      continue;
    }
    if (i > gap) out.emplace_back(static_cast<uint32_t>(gap), static_cast<uint32_t>(i));
    out.emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(m));
    i = gap = m;
  }
  if (gap < end) out.emplace_back(static_cast<uint32_t>(gap), static_cast<uint32_t>(end));
}

}  // namespace warden::engine::tok
