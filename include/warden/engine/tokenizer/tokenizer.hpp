#pragma once
// Hugging Face `tokenizer.json` reader and byte-level BPE tokenizer (Qwen2/Qwen2.5/Qwen3,
// DeepSeek-V3/R1, Llama 3, and GPT-2-style ByteLevel splits). Output is id-for-id identical
// to the HF `tokenizers` library: added tokens are split out first (leftmost-longest), the
// rest is normalized (NFC where the file says so), pre-tokenized with the model's split
// pattern (hand-written matchers over code points, Unicode categories from utf8proc),
// mapped to byte-level symbols and merged by merge rank. Files using anything else
// (WordPiece/Unigram, other regexes, lstrip/rstrip added tokens, ...) are refused at load.
//
// A Tokenizer is immutable after load and safe to use from many threads at once; copies
// share the loaded tables.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine {

class Tokenizer {
 public:
  // Reads a tokenizer.json. Throws std::runtime_error with a clear message when the file is
  // missing, malformed, or uses a model/pre-tokenizer this reader does not support.
  static Tokenizer load(const std::string& path);
  static Tokenizer from_json(std::string_view json);

  // Text → ids, without the post-processor (no BOS added; HF add_special_tokens=false).
  // Added tokens in the text are always recognised, except that with parse_special=false
  // tokens flagged `special` (e.g. <｜end▁of▁sentence｜>) are encoded as plain text —
  // use that for untrusted user text. Invalid UTF-8 is read as U+FFFD per bad sequence.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  // Same, then applies the file's TemplateProcessing post-processor (e.g. R1-distill's
  // leading BOS), like HF encode(text, add_special_tokens=true).
  std::vector<int32_t> encode_with_special_tokens(std::string_view text,
                                                  bool parse_special = true) const;
  // Number of ids encode() would return (the gateway's exact token count).
  size_t count_tokens(std::string_view text, bool parse_special = true) const;

  // Ids → text, like HF decode: byte-level bytes concatenated and read as UTF-8 with
  // U+FFFD for broken sequences. Unknown ids are skipped; skip_special drops ids of added
  // tokens flagged `special`.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // The id of a token by its vocabulary spelling ("Ġthe", "<think>"); added tokens first.
  std::optional<int32_t> token_id(std::string_view token) const;
  // The token's spelling as written in tokenizer.json ("" for an unknown id).
  std::string token_text(int32_t id) const;
  // The raw bytes this token stands for when decoded (may be a partial UTF-8 sequence).
  std::string_view token_bytes(int32_t id) const;
  bool is_special(int32_t id) const;   // an added token flagged `special`
  bool is_added(int32_t id) const;     // any added token
  // Highest id + 1 over the vocabulary and the added tokens (the embedding rows needed).
  int32_t vocab_size() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace warden::engine
