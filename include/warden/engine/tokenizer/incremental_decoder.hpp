#pragma once
// Streaming detokenizer: feed generated ids one at a time, get text that is always valid
// UTF-8. Bytes of a character split across tokens are held back until the character is
// complete; a sequence that can never become valid turns into U+FFFD exactly as the full
// decode() would, so the concatenation of every push() and the final finish() equals
// tokenizer.decode(all ids) byte for byte.
#include <cstdint>
#include <string>

#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::engine {

class IncrementalDecoder {
 public:
  // Keeps a reference: the tokenizer must outlive the decoder.
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tokenizer_(&tokenizer), skip_special_(skip_special) {}

  // Adds one id; returns the text that became complete (often empty for CJK/emoji parts).
  std::string push(int32_t id);
  // End of stream: returns what is still held back (an incomplete tail becomes U+FFFD).
  std::string finish();
  // Bytes held back waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
};

// Reads `bytes` as UTF-8, appending to `out` with each maximal invalid subsequence replaced
// by U+FFFD (the WHATWG / Rust from_utf8_lossy rule). When `final` is false an incomplete
// but so-far-valid sequence at the end is left unconsumed; returns the bytes consumed.
size_t append_utf8_lossy(std::string_view bytes, bool final, std::string& out);

}  // namespace warden::engine
