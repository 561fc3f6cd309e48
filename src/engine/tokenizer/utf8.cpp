#include "utf8.hpp"

#include "warden/engine/tokenizer/incremental_decoder.hpp"

namespace warden::engine {
namespace tok {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Length of the well-formed sequence starting at s[i], 0 when it is ill-formed or cut
// short; `valid_prefix` receives how many bytes form a maximal valid prefix (>= 1).
// Table 3-7 of the Unicode standard (well-formed byte sequences).
size_t sequence_length(std::string_view s, size_t i, size_t& valid_prefix, bool& truncated) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  truncated = false;
  valid_prefix = 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 == 0xE0) {
    need = 2, lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    need = 2;
  } else if (b0 == 0xED) {
    need = 2, hi = 0x9F;
  } else if (b0 == 0xF0) {
    need = 3, lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 3;
  } else if (b0 == 0xF4) {
    need = 3, hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      truncated = true;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) return 0;
    lo = 0x80, hi = 0xBF;
    valid_prefix = k + 1;
  }
  return need + 1;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t prefix;
    bool truncated;
    const size_t len = sequence_length(s, i, prefix, truncated);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace tok

size_t append_utf8_lossy(std::string_view bytes, bool final, std::string& out) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    size_t prefix;
    bool truncated;
    const size_t len = tok::sequence_length(bytes, i, prefix, truncated);
    if (len > 0) {
      out.append(bytes.data() + i, len);
      i += len;
      continue;
    }
    if (truncated && !final) break;  // may still complete with the next token's bytes
    out.append(kReplacement, 3);
    i += prefix;
  }
  return i;
}

}  // namespace warden::engine
