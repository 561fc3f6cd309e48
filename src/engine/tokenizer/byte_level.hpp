#pragma once
// GPT-2 byte-level alphabet: every byte maps to one printable code point so that BPE
// vocabularies can be stored as text (space → "Ġ", newline → "Ċ", ...).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::engine::tok {

class ByteLevel {
 public:
  static const ByteLevel& instance();

  char32_t char_of(uint8_t byte) const { return byte_to_char_[byte]; }
  // The byte a code point stands for, or -1 when it is not in the alphabet.
  int byte_of(char32_t cp) const { return cp < char_to_byte_.size() ? char_to_byte_[cp] : -1; }

  // Byte-level spelling → raw bytes; nullopt when some code point is not in the alphabet.
  std::optional<std::string> to_bytes(std::string_view spelled) const;
  // Raw bytes → byte-level spelling.
  std::string to_spelling(std::string_view bytes) const;

 private:
  ByteLevel();
  std::array<char32_t, 256> byte_to_char_{};
  std::array<int16_t, 512> char_to_byte_{};
};

}  // namespace warden::engine::tok
