#pragma once
// The regexes of HF "Split" pre-tokenizers that warden supports, each as a hand-written
// matcher over code points that follows the regex engine's leftmost-first alternation
// and backtracking exactly (std::regex cannot do \p{L}; pulling in a regex engine for
// five fixed patterns is not worth it). Recognised by their exact pattern text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace warden::engine::tok {

enum class SplitPattern {
  kQwen2,           // (?i:'s|'t|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|...
  kLlama3,          // the same with \p{N}{1,3}
  kDigits1To3,      // \p{N}{1,3}            (DeepSeek-V3, first split)
  kDeepSeekCjk,     // [一-龥぀-ゟ゠-ヿ]+        (DeepSeek-V3, second split)
  kDeepSeekMain,    // [!"#...~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|...
  kGpt2,            // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
                    // (HF ByteLevel pre-tokenizer with use_regex=true)
};

// Which matcher implements `regex` (the pattern text from tokenizer.json), if any.
std::optional<SplitPattern> recognise_split_pattern(std::string_view regex);

// A piece of text as code points with their class bits and byte offsets.
struct CodePoints {
  std::vector<char32_t> cps;
  std::vector<uint16_t> cls;
  std::vector<uint32_t> offsets;  // byte offset of each code point, plus one past the end
  void assign(std::string_view utf8);  // `utf8` must be well-formed
};

// End (exclusive, as a code-point index) of the match starting exactly at `i` within the
// piece [begin, end), or 0 when the pattern does not match there. The piece end acts as
// end of input (each piece is matched on its own, as HF does).
size_t match_at(SplitPattern p, const CodePoints& t, size_t i, size_t end);

// HF Split with behavior "Isolated": matches and the gaps between them, in order, as
// code-point ranges appended to `out`.
void split_isolated(SplitPattern p, const CodePoints& t, size_t begin, size_t end,
                    std::vector<std::pair<uint32_t, uint32_t>>& out);

}  // namespace warden::engine::tok
