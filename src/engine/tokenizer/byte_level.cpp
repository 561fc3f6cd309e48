#include "byte_level.hpp"

#include "utf8.hpp"

namespace warden::engine::tok {

ByteLevel::ByteLevel() {
  char_to_byte_.fill(-1);
  // Printable bytes keep their own code point; the rest are numbered from U+0100 upwards
  // in byte order (bytes_to_unicode() of GPT-2).
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    byte_to_char_[b] = printable ? static_cast<char32_t>(b) : next++;
    char_to_byte_[byte_to_char_[b]] = static_cast<int16_t>(b);
  }
}

const ByteLevel& ByteLevel::instance() {
  static const ByteLevel table;
  return table;
}

std::optional<std::string> ByteLevel::to_bytes(std::string_view spelled) const {
  std::string out;
  out.reserve(spelled.size());
  size_t i = 0;
  while (i < spelled.size()) {
    const int b = byte_of(next_code_point(spelled, i));
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string ByteLevel::to_spelling(std::string_view bytes) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_utf8(out, byte_to_char_[b]);
  return out;
}

}  // namespace warden::engine::tok
