#pragma once
// Per-code-point class bits the split patterns test (\p{L}, \p{N}, \s, ...), derived from
// utf8proc's general categories; no Unicode tables of our own.
#include <cstdint>

namespace warden::engine::tok {

enum CpClass : uint16_t {
  kLetter = 1 << 0,      // \p{L}: Lu Ll Lt Lm Lo
  kNumber = 1 << 1,      // \p{N}: Nd Nl No
  kMark = 1 << 2,        // \p{M}: Mn Mc Me
  kPunct = 1 << 3,       // \p{P}: Pc Pd Ps Pe Pi Pf Po
  kSymbol = 1 << 4,      // \p{S}: Sm Sc Sk So
  kSpace = 1 << 5,       // \s (Oniguruma: White_Space = Zs Zl Zp + U+0009..U+000D, U+0085)
  kCrLf = 1 << 6,        // [\r\n]
  kAsciiPunct = 1 << 7,  // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]
  kAsciiAlpha = 1 << 8,  // [A-Za-z]
  kDeepSeekCjk = 1 << 9, // [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff] (DeepSeek-V3's own split)
  // NFC may change text containing this code point (a combining mark, the second half of
  // a canonical composition, Hangul jamo, or a character NFC replaces). Text without such
  // code points is already NFC, so the tokenizer skips normalization for it.
  kNfcUnsafe = 1 << 10,
};

uint16_t classify(char32_t cp);

}  // namespace warden::engine::tok
