#include "code_point_classes.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace warden::engine::tok {

namespace {

bool nfc_unsafe(char32_t cp) {
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
  if (p->combining_class != 0) return true;
  // comb_index >= 0x8000 marks a code point that can be the second of a composition pair.
  if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return true;
  if (cp >= 0x1100 && cp <= 0x11FF) return true;  // Hangul jamo compose algorithmically
  if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) {
    // Canonically decomposable: unsafe unless NFC gives the code point back (singletons
    // and composition exclusions do not).
    utf8proc_uint8_t buf[4];
    const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
    utf8proc_uint8_t* out = nullptr;
    const auto m = utf8proc_map(buf, n, &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    const bool same = m == n && std::equal(buf, buf + n, out);
    std::free(out);
    return !same;
  }
  return false;
}

uint16_t classify_slow(char32_t cp) {
  uint16_t c = 0;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: c |= kLetter; break;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: c |= kNumber; break;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME: c |= kMark; break;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: c |= kPunct; break;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: c |= kSymbol; break;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: c |= kSpace; break;
    default: break;
  }
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) c |= kSpace;
  if (cp == '\r' || cp == '\n') c |= kCrLf;
  if (cp < 0x80) {
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) c |= kAsciiAlpha;
    if ((cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
        (cp >= 0x7B && cp <= 0x7E))
      c |= kAsciiPunct;
  }
  if ((cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3040 && cp <= 0x309F) || (cp >= 0x30A0 && cp <= 0x30FF))
    c |= kDeepSeekCjk;
  if (nfc_unsafe(cp)) c |= kNfcUnsafe;
  return c;
}

// The first 64K code points are cached (Latin, CJK, kana, Hangul, ...).
struct BmpTable {
  std::array<uint16_t, 0x10000> bits;
  BmpTable() {
    for (char32_t cp = 0; cp < 0x10000; ++cp) bits[cp] = classify_slow(cp);
  }
};

}  // namespace

uint16_t classify(char32_t cp) {
  static const BmpTable table;
  return cp < 0x10000 ? table.bits[cp] : classify_slow(cp);
}

}  // namespace warden::engine::tok
