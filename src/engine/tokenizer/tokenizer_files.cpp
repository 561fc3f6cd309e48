#include "warden/engine/tokenizer/tokenizer_files.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "byte_level.hpp"
#include "json_text.hpp"
#include "split_pattern.hpp"
#include "utf8.hpp"
#include "warden/engine/chat_template/r1_chat_template.hpp"

namespace warden::engine {

namespace {

struct AddedSpec {
  const char* content;
  bool special;
};

// DeepSeek-R1-Distill-Qwen's added tokens, ids 151643.. in this order, flags as published.
constexpr AddedSpec kR1DistillAdded[] = {
    {"<｜end▁of▁sentence｜>", true}, {"<｜User｜>", false},        {"<｜Assistant｜>", false},
    {"<｜begin▁of▁sentence｜>", true}, {"<|EOT|>", false},         {"<think>", false},
    {"</think>", false},            {"<|quad_start|>", true},     {"<|quad_end|>", true},
    {"<|vision_start|>", true},     {"<|vision_end|>", true},     {"<|vision_pad|>", true},
    {"<|image_pad|>", true},        {"<|video_pad|>", true},      {"<tool_call>", false},
    {"</tool_call>", false},        {"<|fim_prefix|>", false},    {"<|fim_middle|>", false},
    {"<|fim_suffix|>", false},      {"<|fim_pad|>", false},       {"<|repo_name|>", false},
    {"<|file_sep|>", false},
};
constexpr int kTinyAddedCount = 7;  // the first seven of the list above

constexpr std::string_view kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::string added_tokens_json(int32_t first_id, int count) {
  std::string out = "[";
  for (int i = 0; i < count; ++i) {
    if (i) out += ",\n    ";
    out += "{\"id\":" + std::to_string(first_id + i) + ",\"content\":";
    tok::append_json_string(out, kR1DistillAdded[i].content);
    out += ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":";
    out += kR1DistillAdded[i].special ? "true}" : "false}";
  }
  return out + "]";
}

std::string bos_post_processor_json(int32_t bos_id) {
  std::string bos;
  tok::append_json_string(bos, kR1Bos);
  const std::string id = std::to_string(bos_id);
  return "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":" + bos +
         ",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[{\"SpecialToken\":{\"id\":" +
         bos + ",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":" + bos +
         ",\"type_id\":1}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],\"special_tokens\":{" + bos +
         ":{\"id\":" + bos + ",\"ids\":[" + id + "],\"tokens\":[" + bos + "]}}}";
}

std::string qwen_pre_tokenizer_json() {
  std::string out = "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":";
  tok::append_json_string(out, kQwen2Split);
  out += "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
         "\"trim_offsets\":false,\"use_regex\":false}]}";
  return out;
}

constexpr const char* kByteLevelDecoder =
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}";

// tokenizer_config.json as transformers reads it for an R1 distill model.
std::string r1_tokenizer_config_json(int32_t first_added_id, int added_count) {
  auto q = [](std::string_view s) {
    std::string out;
    tok::append_json_string(out, s);
    return out;
  };
  std::string out = "{\n  \"add_bos_token\": true,\n  \"add_eos_token\": false,\n  \"added_tokens_decoder\": {";
  for (int i = 0; i < added_count; ++i) {
    if (i) out += ",";
    out += "\n    \"" + std::to_string(first_added_id + i) + "\": {\"content\": " + q(kR1DistillAdded[i].content) +
           ", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": " +
           (kR1DistillAdded[i].special ? "true}" : "false}");
  }
  out += "\n  },\n  \"bos_token\": " + q(kR1Bos) + ",\n  \"eos_token\": " + q(kR1Eos) +
         ",\n  \"pad_token\": " + q(kR1Eos) +
         ",\n  \"clean_up_tokenization_spaces\": false,\n  \"legacy\": true,\n  \"model_max_length\": 16384,\n"
         "  \"tokenizer_class\": \"LlamaTokenizerFast\",\n  \"unk_token\": null,\n  \"chat_template\": " +
         q(r1_chat_template_text()) + "\n}\n";
  return out;
}

// A fixed training text for the tiny vocabulary: English prose, code and chat markup, so
// tiny models see realistic merges (" the", "ing", "    ", "()", ...).
constexpr std::string_view kTinyTrainingText = R"TXT(
The quick brown fox jumps over the lazy dog. The dog was not amused, and the fox ran away.
It is a truth universally acknowledged, that a single man in possession of a good fortune,
must be in want of a wife. However little known the feelings or views of such a man may be
on his first entering a neighbourhood, this truth is so well fixed in the minds of the
surrounding families, that he is considered the rightful property of some one or other of
their daughters. What is the weather like today? It is sunny and warm, with a light breeze.
Please think step by step, then give the final answer. Let me think about this carefully.
First, we need to find the number of apples. There are 12 apples and 7 oranges in the box,
so there are 19 pieces of fruit in total. The answer is 19. I'm sure that's right; we've
checked it twice and they'll agree. You're welcome! Don't hesitate to ask if there's more.
def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
    a, b = 0, 1
    for _ in range(n - 1):
        a, b = b, a + b
    return b

int main(int argc, char** argv) {
    std::vector<int> values = {1, 2, 3, 4, 5};
    for (const auto& v : values) {
        std::printf("%d\n", v * 2);
    }
    return 0;
}

const response = await fetch("https://example.com/api/v1/chat", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "Hello!" }] }),
});
SELECT name, count(*) AS total FROM users WHERE created_at > '2024-01-01' GROUP BY name;
The function returns the value of the variable, and the result is printed to the screen.
In the beginning the universe was created. This has made a lot of people very angry and
been widely regarded as a bad move. Time is an illusion. Lunchtime doubly so.
)TXT";

// Byte-pair training over pre-tokenized words (counts per distinct word); ties go to the
// smallest (left, right) pair so the result is deterministic.
std::vector<std::pair<int32_t, int32_t>> train_merges(std::string_view text, size_t wanted,
                                                      std::vector<std::string>& token_bytes) {
  tok::CodePoints cps;
  cps.assign(text);
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  tok::split_isolated(tok::SplitPattern::kQwen2, cps, 0, cps.cps.size(), ranges);
  std::map<std::string, int> counts;
  for (const auto& [b, e] : ranges)
    counts[std::string(text.substr(cps.offsets[b], cps.offsets[e] - cps.offsets[b]))]++;
  struct Word {
    std::vector<int32_t> ids;
    int count;
  };
  std::vector<Word> words;
  for (const auto& [w, c] : counts) {
    Word word{{}, c};
    for (unsigned char ch : w) word.ids.push_back(ch);
    words.push_back(std::move(word));
  }
  std::vector<std::pair<int32_t, int32_t>> merges;
  std::map<std::string, int32_t> ids_by_bytes;
  for (size_t i = 0; i < token_bytes.size(); ++i) ids_by_bytes.emplace(token_bytes[i], static_cast<int32_t>(i));
  const size_t target = token_bytes.size() + wanted;
  while (token_bytes.size() < target) {
    std::map<std::pair<int32_t, int32_t>, long> pairs;
    for (const auto& w : words)
      for (size_t i = 0; i + 1 < w.ids.size(); ++i) pairs[{w.ids[i], w.ids[i + 1]}] += w.count;
    if (pairs.empty()) break;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (it->second > best->second) best = it;
    const auto [l, r] = best->first;
    // Two merges may spell the same bytes ("a"+"bc", "ab"+"c"): they share one token.
    const std::string bytes = token_bytes[l] + token_bytes[r];
    auto [it, fresh] = ids_by_bytes.emplace(bytes, static_cast<int32_t>(token_bytes.size()));
    if (fresh) token_bytes.push_back(bytes);
    const int32_t merged = it->second;
    merges.emplace_back(l, r);
    for (auto& w : words) {
      std::vector<int32_t> next;
      next.reserve(w.ids.size());
      for (size_t i = 0; i < w.ids.size(); ++i) {
        if (i + 1 < w.ids.size() && w.ids[i] == l && w.ids[i + 1] == r) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(w.ids[i]);
        }
      }
      w.ids.swap(next);
    }
  }
  return merges;
}

}  // namespace

void write_r1_distill_tokenizer(const std::string& qwen_tokenizer_json, const std::string& out_path,
                                const std::string& config_out_path) {
  const std::string src = read_file(qwen_tokenizer_json);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(src);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) throw std::runtime_error(qwen_tokenizer_json + ": invalid JSON");
  simdjson::dom::element model, normalizer, pre, decoder;
  simdjson::dom::object vocab;
  if (root["model"].get(model) || root["normalizer"].get(normalizer) || root["pre_tokenizer"].get(pre) ||
      root["decoder"].get(decoder) || model["vocab"].get(vocab))
    throw std::runtime_error(qwen_tokenizer_json + ": not a Qwen tokenizer.json");
  // R1's added ids start right after the 151643 regular tokens of Qwen2.5.
  int64_t max_id = -1;
  for (auto field : vocab) max_id = std::max<int64_t>(max_id, int64_t(field.value));
  if (max_id != 151642)
    throw std::runtime_error(qwen_tokenizer_json + ": expected the Qwen2.5 vocabulary (151643 tokens)");
  constexpr int32_t kFirst = 151643;
  constexpr int kCount = sizeof(kR1DistillAdded) / sizeof(kR1DistillAdded[0]);

  std::string out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ";
  out += added_tokens_json(kFirst, kCount);
  out += ",\n  \"normalizer\": " + simdjson::minify(normalizer);
  out += ",\n  \"pre_tokenizer\": " + simdjson::minify(pre);
  out += ",\n  \"post_processor\": " + bos_post_processor_json(kFirst + 3);
  out += ",\n  \"decoder\": " + simdjson::minify(decoder);
  out += ",\n  \"model\": " + simdjson::minify(model) + "\n}\n";
  write_file(out_path, out);
  if (!config_out_path.empty()) write_file(config_out_path, r1_tokenizer_config_json(kFirst, kCount));
}

void write_tiny_tokenizer(const std::string& out_path, int32_t vocab_size, const std::string& config_out_path) {
  if (vocab_size < 300) throw std::runtime_error("write_tiny_tokenizer: vocab_size must be >= 300");
  const int32_t regular = vocab_size - kTinyAddedCount;
  std::vector<std::string> token_bytes;
  for (int b = 0; b < 256; ++b) token_bytes.emplace_back(1, static_cast<char>(b));
  const auto merges = train_merges(kTinyTrainingText, static_cast<size_t>(regular - 256), token_bytes);
  const auto& bl = tok::ByteLevel::instance();

  std::string out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ";
  out += added_tokens_json(regular, kTinyAddedCount);
  out += ",\n  \"normalizer\": {\"type\":\"NFC\"}";
  out += ",\n  \"pre_tokenizer\": " + qwen_pre_tokenizer_json();
  out += ",\n  \"post_processor\": " + bos_post_processor_json(regular + 3);
  out += std::string(",\n  \"decoder\": ") + kByteLevelDecoder;
  out += ",\n  \"model\": {\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":\"\","
         "\"end_of_word_suffix\":\"\",\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":false,\n"
         "    \"vocab\": {";
  // Ids past the learned merges (a text too small for the size asked) are placeholders
  // no merge produces; they keep vocab_size exact.
  for (int32_t id = 0; id < regular; ++id) {
    out += id ? ",\n      " : "\n      ";
    const std::string spelling = id < static_cast<int32_t>(token_bytes.size())
                                     ? bl.to_spelling(token_bytes[id])
                                     : "<|reserved_" + std::to_string(id) + "|>";
    tok::append_json_string(out, spelling);
    out += ":" + std::to_string(id);
  }
  out += "},\n    \"merges\": [";
  for (size_t i = 0; i < merges.size(); ++i) {
    out += i ? ",\n      [" : "\n      [";
    tok::append_json_string(out, bl.to_spelling(token_bytes[merges[i].first]));
    out += ",";
    tok::append_json_string(out, bl.to_spelling(token_bytes[merges[i].second]));
    out += "]";
  }
  out += "]}\n}\n";
  write_file(out_path, out);
  if (!config_out_path.empty()) write_file(config_out_path, r1_tokenizer_config_json(regular, kTinyAddedCount));
}

}  // namespace warden::engine
