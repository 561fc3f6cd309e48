#pragma once
// The tokenizer test corpus: tests/engine_ref/tokenizer_corpus.json (hand-picked lines) plus
// seeded random strings over many scripts, whitespace kinds, emoji sequences, combining
// marks, digits, special-token fragments, and random bytes made valid.
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

#include "unit/engine/tokenizer/node_reference.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"

namespace warden::test {

inline void append_cp(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline std::vector<std::string> fixed_corpus() {
  const std::string text = read_text_file(source_path("tests/engine_ref/tokenizer_corpus.json"));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  std::vector<std::string> lines;
  for (auto e : parser.parse(padded).get_array()) lines.emplace_back(std::string_view(e));
  return lines;
}

inline std::string random_line(std::mt19937& rng, size_t max_cps) {
  // Ranges of long-assigned characters only, so that Unicode-version differences between
  // utf8proc and Oniguruma do not matter.
  static const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E},       {0x20, 0x7E},     {0x20, 0x7E},     {0x61, 0x7A},     {0x30, 0x39},
      {0xA0, 0xFF},       {0x100, 0x24F},   {0x300, 0x36F},   {0x391, 0x3C9},   {0x410, 0x44F},
      {0x621, 0x64A},     {0x660, 0x669},   {0x905, 0x939},   {0x93E, 0x94D},   {0x966, 0x96F},
      {0xE01, 0xE3A},     {0x1100, 0x1112}, {0x1161, 0x1175}, {0x11A8, 0x11C2}, {0xAC00, 0xD7A3},
      {0x3041, 0x3096},   {0x30A1, 0x30FA}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FCB}, {0x3000, 0x303F},
      {0xFF01, 0xFF5E},   {0x2000, 0x206F}, {0x2190, 0x21FF}, {0x2200, 0x22FF}, {0x2500, 0x257F},
      {0x1F300, 0x1F5FF}, {0x1F600, 0x1F64F}, {0x1F3FB, 0x1F3FF}, {0x2160, 0x217F}, {0xB2, 0xBE},
  };
  static const std::vector<std::string> pieces = {
      " ",   "  ",     "\t",       "\n",      "\r\n",     "\r",           "\n\n",        " \n ",
      "'s",  "'LL",    "'Re",      "'t",      "'ſ",       "\u00a0",       "\u3000",      "\u2028",
      "\u0085", "\u000b", "\u200d", "\ufe0f",  "<think>",  "</think>",     "<|im_end|>",  "<|endoftext|>",
      "<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>", "<|", "｜", "▁", "<tool_call>", "```",
      "123",  "4567",  "3.14",     "1,000",   ".append",  "->",           "::",          "// ",
      "Hello", " world", "中文",    "テスト",   "👍🏽",      "👨‍👩‍👧",       "e\u0301",     "ﬁ",
  };
  std::string out;
  const size_t n = 1 + rng() % max_cps;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 4 == 0) {
      out += pieces[rng() % pieces.size()];
    } else {
      const auto& [lo, hi] = ranges[rng() % ranges.size()];
      append_cp(out, lo + static_cast<char32_t>(rng() % (hi - lo + 1)));
    }
  }
  return out;
}

// Random bytes (mostly high bytes) read as UTF-8 with U+FFFD for bad sequences.
inline std::string random_bytes_line(std::mt19937& rng, size_t n, std::string* raw_out = nullptr) {
  std::string raw;
  for (size_t i = 0; i < n; ++i) raw += static_cast<char>(rng() % 3 == 0 ? 0x20 + rng() % 0x5F : rng() % 256);
  std::string valid;
  engine::append_utf8_lossy(raw, true, valid);
  if (raw_out) *raw_out = raw;
  return valid;
}

inline std::vector<std::string> full_corpus() {
  std::vector<std::string> lines = fixed_corpus();
  std::mt19937 rng(20261123);
  for (int i = 0; i < 400; ++i) lines.push_back(random_line(rng, 60));
  for (int i = 0; i < 20; ++i) lines.push_back(random_line(rng, 2000));
  for (int i = 0; i < 20; ++i) lines.push_back(random_bytes_line(rng, 600));
  return lines;
}

}  // namespace warden::test
