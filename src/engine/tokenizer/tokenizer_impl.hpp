#pragma once
// The loaded tables behind warden::engine::Tokenizer (internal).
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "added_vocabulary.hpp"
#include "bpe_model.hpp"
#include "split_pattern.hpp"
#include "string_map.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::engine {

struct Tokenizer::Impl {
  // Vocabulary.
  tok::StringMap<int32_t> vocab;        // model spelling → id
  tok::StringMap<int32_t> bytes_to_id;    // raw bytes → id (ignore_merges)
  std::vector<std::string> spelling;                       // id → spelling ("" = unused id)
  std::vector<std::string> bytes;                          // id → decoded bytes
  std::vector<uint8_t> flags;                              // kAdded | kSpecial
  static constexpr uint8_t kAdded = 1, kSpecial = 2, kKnown = 4;

  // Added tokens, split out before normalization (normalized=false) or after (true).
  std::vector<tok::AddedToken> added;
  tok::StringMap<int32_t> added_ids;
  std::vector<tok::AddedToken> raw_added, normalized_added;
  tok::AddedTokenMatcher raw_matcher;
  tok::AddedTokenMatcher normalized_matcher;

  bool nfc = false;
  std::vector<tok::SplitPattern> splits;
  std::unique_ptr<tok::BpeModel> bpe;

  // TemplateProcessing "single": each entry either a run of special ids or the sequence.
  struct TemplatePart {
    bool sequence = false;
    std::vector<int32_t> ids;
  };
  std::vector<TemplatePart> post_single;

  void encode(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
  void encode_segment(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
  void encode_normalized(std::string_view text, std::vector<int32_t>& out) const;
};

std::shared_ptr<const Tokenizer::Impl> parse_tokenizer_json(std::string_view json);

}  // namespace warden::engine
