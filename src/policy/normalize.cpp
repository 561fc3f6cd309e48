#include "warden/policy/normalize.hpp"

#include <utf8proc.h>

#include <cstdlib>

namespace warden::policy {

bool is_invisible_control(int32_t c) {
  return (c >= 0x200B && c <= 0x200F) || c == 0x2060 || c == 0xFEFF || c == 0x00AD || c == 0x180E ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x061C;
}

namespace {

bool plain_ascii(std::string_view s, bool casefold) {
  for (unsigned char c : s)
    if (c >= 0x80 || (casefold && c >= 'A' && c <= 'Z')) return false;
  return true;
}

}  // namespace

NormalizedText::NormalizedText(std::string_view original, bool casefold) : original_(original) {
  if (plain_ascii(original, casefold)) return;
  identity_ = false;
  text_.reserve(original.size());
  begin_.reserve(original.size());
  end_.reserve(original.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(original.data());
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                      (casefold ? UTF8PROC_CASEFOLD : 0));
  size_t pos = 0;
  while (pos < original.size()) {
    utf8proc_int32_t cp = -1;
    utf8proc_ssize_t len = utf8proc_iterate(bytes + pos, static_cast<utf8proc_ssize_t>(original.size() - pos), &cp);
    if (len <= 0) {  // invalid UTF-8: the byte stands for itself
      text_.push_back(original[pos]);
      begin_.push_back(pos);
      end_.push_back(pos + 1);
      ++pos;
      continue;
    }
    const size_t next = pos + static_cast<size_t>(len);
    if (is_invisible_control(cp)) {
      pos = next;
      continue;
    }
    auto emit = [&](char c) {
      text_.push_back(c);
      begin_.push_back(pos);
      end_.push_back(next);
    };
    if (cp < 0x80) {
      emit(static_cast<char>(casefold && cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp));
    } else if (const auto* prop = utf8proc_get_property(cp);
               prop->decomp_seqindex == UINT16_MAX && (!casefold || prop->casefold_seqindex == UINT16_MAX)) {
      // No compatibility mapping and nothing to fold (most letters of most scripts, CJK):
      // the character is its own NFKC form; copy it without a round trip through utf8proc_map.
      for (size_t k = pos; k < next; ++k) emit(original[k]);
    } else {
      // NFKC (and case fold) of this one code point.
      utf8proc_uint8_t* out = nullptr;
      utf8proc_ssize_t n = utf8proc_map(bytes + pos, len, &out, options);
      if (n < 0 || !out) {
        for (size_t k = pos; k < next; ++k) emit(original[k]);
      } else {
        for (utf8proc_ssize_t k = 0; k < n; ++k) emit(static_cast<char>(out[k]));
      }
      std::free(out);
    }
    pos = next;
  }
}

}  // namespace warden::policy
