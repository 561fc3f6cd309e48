// warden's tokenizer vs Hugging Face `tokenizers` (computed now, by the Node binding) on
// the real Qwen2.5/Qwen3 and DeepSeek-V3 vocabularies, the R1-distill file warden writes and
// a tiny vocabulary: ids for every corpus line, decode of the reference ids and of random
// id sequences (with and without skip_special), and the incremental decoder.
#include <catch2/catch.hpp>
#include <utf8proc.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "unit/engine/tokenizer/node_reference.hpp"
#include "unit/engine/tokenizer/tokenizer_corpus.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"

using warden::engine::IncrementalDecoder;
using warden::engine::Tokenizer;
namespace wt = warden::test;

namespace {

struct Reference {
  std::vector<std::vector<int32_t>> encode;
  std::vector<std::string> decode;
  std::vector<std::string> decode_skip_special;
  int64_t vocab_size = 0;
};

Reference hf_reference(const std::string& tokenizer_path, const std::vector<std::string>& texts,
                       const std::vector<std::vector<int32_t>>& decode_ids) {
  std::string req = "{\"texts\":[";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i) req += ',';
    wt::append_json_string(req, texts[i]);
  }
  req += "],\"decode\":[";
  for (size_t i = 0; i < decode_ids.size(); ++i) {
    if (i) req += ',';
    req += '[';
    for (size_t k = 0; k < decode_ids[i].size(); ++k) {
      if (k) req += ',';
      req += std::to_string(decode_ids[i][k]);
    }
    req += ']';
  }
  req += "]}";
  wt::TempFile request(".json");
  request.write(req);
  const std::string out = wt::run_node_reference("hf_tokenizer_ref.cjs", {tokenizer_path, request.path()});

  Reference ref;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(out);
  auto root = parser.parse(padded);
  for (auto ids : root["encode"].get_array()) {
    std::vector<int32_t> v;
    for (auto id : ids.get_array()) v.push_back(static_cast<int32_t>(int64_t(id)));
    ref.encode.push_back(std::move(v));
  }
  for (auto s : root["decode"].get_array()) ref.decode.emplace_back(std::string_view(s));
  for (auto s : root["decode_skip_special"].get_array()) ref.decode_skip_special.emplace_back(std::string_view(s));
  ref.vocab_size = int64_t(root["vocab_size"]);
  return ref;
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? "," : "") << ids[i];
  s << ']';
  return s.str();
}

std::vector<std::vector<int32_t>> random_id_sequences(const Tokenizer& tok, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> seqs;
  // Ids whose bytes are a single byte >= 0x80: they cut UTF-8 sequences apart.
  std::vector<int32_t> partial;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    auto b = tok.token_bytes(id);
    if (!tok.is_added(id) && !b.empty() && (static_cast<unsigned char>(b.back()) >= 0x80)) partial.push_back(id);
  }
  std::vector<int32_t> added;
  for (int32_t id = 0; id < tok.vocab_size(); ++id)
    if (tok.is_added(id)) added.push_back(id);
  for (int i = 0; i < 150; ++i) {
    std::vector<int32_t> seq;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) {
      const int kind = static_cast<int>(rng() % 10);
      if (kind < 5) seq.push_back(static_cast<int32_t>(rng() % tok.vocab_size()));
      else if (kind < 9 || added.empty()) seq.push_back(partial[rng() % partial.size()]);
      else seq.push_back(added[rng() % added.size()]);
    }
    seqs.push_back(std::move(seq));
  }
  return seqs;
}

std::string nfc(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                              &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string r = n < 0 ? std::string("<utf8proc error>") : std::string(reinterpret_cast<char*>(out), n);
  std::free(out);
  return r;
}

// `normalizes`: the file has the NFC normalizer.
void check_against_hf(const std::string& path, bool normalizes) {
  INFO("tokenizer " << path);
  const Tokenizer tok = Tokenizer::load(path);
  const auto corpus = wt::full_corpus();
  // One Node run per tokenizer: HF encodes the corpus and decodes warden's ids of it (equal
  // to HF's own when the encode check passes) plus random id sequences (UTF-8 cut apart,
  // special tokens).
  std::vector<std::vector<int32_t>> all;
  for (const auto& line : corpus) all.push_back(tok.encode(line));
  const auto random_ids = random_id_sequences(tok, 7);
  all.insert(all.end(), random_ids.begin(), random_ids.end());
  const Reference ref = hf_reference(path, corpus, all);
  REQUIRE(ref.encode.size() == corpus.size());
  REQUIRE(tok.vocab_size() >= ref.vocab_size);

  size_t mismatches = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const auto& ids = all[i];
    if (ids != ref.encode[i] && ++mismatches <= 5) {
      INFO("line " << i << ": " << wt::printable(corpus[i]));
      INFO("warden " << ids_text(ids));
      INFO("hf     " << ids_text(ref.encode[i]));
      CHECK(ids == ref.encode[i]);
    }
    CHECK(tok.count_tokens(corpus[i]) == ref.encode[i].size());
    // Round trip, for lines the normalizer leaves alone (a line that is not NFC comes back
    // as NFC applied between added tokens, as in HF: that case is the decode check below).
    if (!normalizes || nfc(corpus[i]) == corpus[i]) {
      const std::string back = tok.decode(ids);
      if (back != corpus[i] && ++mismatches <= 5) {
        INFO("round trip of line " << i << ": " << wt::printable(corpus[i]));
        CHECK(wt::printable(back, 2000) == wt::printable(corpus[i], 2000));
      }
    }
  }
  CHECK(mismatches == 0);

  const Reference& dec = ref;
  REQUIRE(dec.decode.size() == all.size());
  size_t decode_mismatches = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string full = tok.decode(all[i]);
    const std::string skip = tok.decode(all[i], true);
    if ((full != dec.decode[i] || skip != dec.decode_skip_special[i]) && ++decode_mismatches <= 5) {
      INFO("ids " << ids_text(all[i]));
      CHECK(wt::printable(full, 2000) == wt::printable(dec.decode[i], 2000));
      CHECK(wt::printable(skip, 2000) == wt::printable(dec.decode_skip_special[i], 2000));
    }
    // Streaming the same ids one at a time gives the same bytes, never broken UTF-8.
    for (bool skip_special : {false, true}) {
      IncrementalDecoder stream(tok, skip_special);
      std::string joined;
      bool chunks_valid = true;
      for (int32_t id : all[i]) {
        const std::string chunk = stream.push(id);
        std::string check;
        warden::engine::append_utf8_lossy(chunk, true, check);
        chunks_valid = chunks_valid && check == chunk;
        joined += chunk;
      }
      joined += stream.finish();
      if ((joined != (skip_special ? skip : full) || !chunks_valid) && ++decode_mismatches <= 5) {
        INFO("incremental, skip_special=" << skip_special << " ids " << ids_text(all[i]));
        CHECK(chunks_valid);
        CHECK(wt::printable(joined, 2000) == wt::printable(skip_special ? skip : full, 2000));
      }
    }
  }
  CHECK(decode_mismatches == 0);
}

}  // namespace

TEST_CASE("tokenizer matches HF tokenizers on the Qwen2.5/Qwen3 vocabulary", "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  check_against_hf(wt::qwen_tokenizer_path(), true);
}

TEST_CASE("tokenizer matches HF tokenizers on the DeepSeek-V3 vocabulary", "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  check_against_hf(wt::deepseek_tokenizer_path(), false);
}

TEST_CASE("tokenizer matches HF tokenizers with Llama 3's split and ignore_merges", "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  // No Llama 3 vocabulary is installed: the Qwen file with Llama 3's pre-tokenizer regex
  // (\p{N}{1,3}) and Llama 3's ignore_merges=true exercises the same code paths.
  std::string json = wt::read_text_file(wt::qwen_tokenizer_path());
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = json.find(from);
    REQUIRE(at != std::string::npos);
    json.replace(at, from.size(), to);
  };
  replace(R"(\\p{N}| ?)", R"(\\p{N}{1,3}| ?)");
  replace(R"("ignore_merges": false)", R"("ignore_merges": true)");
  wt::TempFile out(".json");
  out.write(json);
  check_against_hf(out.path(), true);
}

TEST_CASE("tokenizer matches HF tokenizers with the GPT-2 ByteLevel split (use_regex=true)",
          "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  // The Qwen vocabulary with HF's default byte-level pre-tokenizer instead of Qwen's Split.
  const std::string src = wt::read_text_file(wt::qwen_tokenizer_path());
  simdjson::dom::parser parser;
  simdjson::padded_string padded(src);
  auto root = parser.parse(padded);
  std::string json = "{\"added_tokens\":" + simdjson::minify(root["added_tokens"]) +
                     ",\"normalizer\":" + simdjson::minify(root["normalizer"]) +
                     ",\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                     "\"trim_offsets\":true,\"use_regex\":true}" +
                     ",\"post_processor\":null,\"decoder\":" + simdjson::minify(root["decoder"]) +
                     ",\"model\":" + simdjson::minify(root["model"]) + "}";
  wt::TempFile out(".json");
  out.write(json);
  check_against_hf(out.path(), true);
}

TEST_CASE("the R1-distill tokenizer.json warden writes tokenizes like HF reads it", "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  wt::TempFile out(".json");
  warden::engine::write_r1_distill_tokenizer(wt::qwen_tokenizer_path(), out.path());
  check_against_hf(out.path(), true);
}

TEST_CASE("the tiny tokenizer.json warden writes tokenizes like HF reads it", "[tokenizer][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: HF parity not checked");
    return;
  }
  wt::TempFile out(".json");
  warden::engine::write_tiny_tokenizer(out.path(), 512);
  check_against_hf(out.path(), true);
}
