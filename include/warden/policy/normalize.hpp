#pragma once
// The view of caller or model text that DLP and guardrails scan, so a value cannot slip
// past a detector by its spelling: Unicode NFKC per code point (full-width digits and
// letters, ligatures, compatibility forms become their plain forms), zero-width and bidi
// control characters removed, and — for case-insensitive rules — case-folded. Every byte
// of the view remembers the original bytes it came from, so a match found in the view
// redacts the original text. Pure ASCII text without controls is its own view (no copy
// of the mapping is made). Thread-safe (no shared state).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden::policy {

class NormalizedText {
 public:
  // `casefold`: also fold case (for detectors/terms that ignore case).
  NormalizedText(std::string_view original, bool casefold = false);

  std::string_view view() const { return identity_ ? original_ : std::string_view(text_); }
  bool identity() const { return identity_; }
  // The original byte range [begin, end) that the view's bytes [start, end) came from:
  // from the first byte of the code point behind `start` to the last byte of the code
  // point behind end-1 (so dropped characters inside a match are covered too).
  size_t original_begin(size_t start) const { return identity_ ? start : begin_[start]; }
  size_t original_end(size_t end) const { return identity_ ? end : (end == 0 ? 0 : end_[end - 1]); }

 private:
  std::string_view original_;
  bool identity_ = true;
  std::string text_;
  std::vector<size_t> begin_, end_;  // per view byte: original code point [begin, end)
};

// Zero-width characters (U+200B–U+200D, U+2060, U+FEFF, U+00AD soft hyphen, U+180E) and
// bidi controls (U+200E/F, U+202A–U+202E, U+2066–U+2069, U+061C): invisible, removed.
bool is_invisible_control(int32_t codepoint);

}  // namespace warden::policy
