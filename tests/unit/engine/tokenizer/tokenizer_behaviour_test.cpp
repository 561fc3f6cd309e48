// Behaviour the HF parity corpus does not cover: special-token handling switches, the
// post-processor, the files warden writes (ids from docs/models.md), bad input, threads,
// and the `warden tokenize` CLI (checked against HF's ids).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "unit/engine/tokenizer/node_reference.hpp"
#include "unit/engine/tokenizer/tokenizer_corpus.hpp"
#include "warden/engine/chat_template/r1_chat_template.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"

using warden::engine::IncrementalDecoder;
using warden::engine::Tokenizer;
namespace wt = warden::test;

namespace {

bool have_qwen() { return std::filesystem::exists(wt::qwen_tokenizer_path()); }

const Tokenizer& r1_tokenizer() {
  static const Tokenizer tok = [] {
    wt::TempFile out(".json");
    warden::engine::write_r1_distill_tokenizer(wt::qwen_tokenizer_path(), out.path());
    return Tokenizer::load(out.path());
  }();
  return tok;
}

}  // namespace

TEST_CASE("R1-distill tokenizer has R1's added tokens at the documented ids", "[tokenizer]") {
  if (!have_qwen()) {
    WARN("npm Qwen vocabulary missing");
    return;
  }
  const Tokenizer& tok = r1_tokenizer();
  // docs/models.md (R1-Distill-Qwen tokenizer).
  CHECK(tok.token_id("<｜end▁of▁sentence｜>") == 151643);
  CHECK(tok.token_id("<｜User｜>") == 151644);
  CHECK(tok.token_id("<｜Assistant｜>") == 151645);
  CHECK(tok.token_id("<｜begin▁of▁sentence｜>") == 151646);
  CHECK(tok.token_id("<think>") == 151648);
  CHECK(tok.token_id("</think>") == 151649);
  CHECK(tok.vocab_size() == 151665);
  CHECK(tok.is_special(151643));
  CHECK(tok.is_special(151646));
  CHECK_FALSE(tok.is_special(151648));
  CHECK(tok.is_added(151648));
  CHECK(tok.token_text(151649) == "</think>");
  CHECK(tok.encode("<think>\nok</think>").front() == 151648);
  // The post-processor adds BOS, like transformers' add_special_tokens=True.
  const auto with_bos = tok.encode_with_special_tokens("Hello");
  REQUIRE(with_bos.size() == 2);
  CHECK(with_bos[0] == 151646);
  CHECK(with_bos[1] == tok.encode("Hello")[0]);
}

TEST_CASE("parse_special=false encodes special tokens as text but keeps non-special added ones",
          "[tokenizer]") {
  if (!have_qwen()) return;
  const Tokenizer& tok = r1_tokenizer();
  const std::string text = "a<｜end▁of▁sentence｜>b<think>c";
  const auto parsed = tok.encode(text);
  const auto plain = tok.encode(text, false);
  CHECK(std::count(parsed.begin(), parsed.end(), 151643) == 1);
  CHECK(std::count(plain.begin(), plain.end(), 151643) == 0);
  CHECK(std::count(plain.begin(), plain.end(), 151648) == 1);  // <think> is not special
  CHECK(plain.size() > parsed.size());
  CHECK(tok.decode(plain) == text);
  CHECK(tok.decode(parsed) == text);
  CHECK(tok.decode(parsed, true) == "ab<think>c");
}

TEST_CASE("invalid UTF-8 is tokenized as its U+FFFD-repaired text", "[tokenizer]") {
  if (!have_qwen()) return;
  const Tokenizer& tok = r1_tokenizer();
  std::mt19937 rng(99);
  for (int i = 0; i < 30; ++i) {
    std::string raw;
    const std::string valid = wt::random_bytes_line(rng, 200, &raw);
    REQUIRE(valid != raw);
    CHECK(tok.encode(raw) == tok.encode(valid));
  }
  CHECK(tok.decode(tok.encode("\xff\xfe abc \xe4\xb8")) == "\xEF\xBF\xBD\xEF\xBF\xBD abc \xEF\xBF\xBD");
}

TEST_CASE("append_utf8_lossy follows the maximal-subpart rule and holds back incomplete tails",
          "[tokenizer]") {
  using warden::engine::append_utf8_lossy;
  const std::string fffd = "\xEF\xBF\xBD";
  std::string out;
  // E4 B8 AD = 中 ; cut after two bytes.
  CHECK(append_utf8_lossy("a\xE4\xB8", false, out) == 1);
  CHECK(out == "a");
  out.clear();
  CHECK(append_utf8_lossy("a\xE4\xB8", true, out) == 3);
  CHECK(out == "a" + fffd);
  out.clear();
  // Overlong (C0 80), surrogate (ED A0 80), > U+10FFFF (F4 90 80 80): one U+FFFD per byte.
  append_utf8_lossy("\xC0\x80|\xED\xA0\x80|\xF4\x90\x80\x80", true, out);
  CHECK(out == fffd + fffd + "|" + fffd + fffd + fffd + "|" + fffd + fffd + fffd + fffd);
  out.clear();
  // A valid prefix cut by a bad byte: one U+FFFD for the prefix, then the byte itself.
  append_utf8_lossy("\xF0\x9F\x98" "A", false, out);
  CHECK(out == fffd + "A");
}

TEST_CASE("incremental decoder holds back split characters and emits them whole", "[tokenizer]") {
  if (!have_qwen()) return;
  const Tokenizer& tok = r1_tokenizer();
  // Byte tokens for the three bytes of 中 (E4 B8 AD) and the four of 😀 (F0 9F 98 80).
  auto byte_token = [&](unsigned char b) {
    for (int32_t id = 0; id < tok.vocab_size(); ++id)
      if (tok.token_bytes(id).size() == 1 && static_cast<unsigned char>(tok.token_bytes(id)[0]) == b) return id;
    FAIL("no byte token");
    return -1;
  };
  IncrementalDecoder d(tok);
  CHECK(d.push(byte_token(0xE4)).empty());
  CHECK(d.push(byte_token(0xB8)).empty());
  CHECK(d.pending_bytes() == 2);
  CHECK(d.push(byte_token(0xAD)) == "中");
  CHECK(d.push(byte_token(0xF0)).empty());
  CHECK(d.push(byte_token(0x9F)).empty());
  CHECK(d.push(byte_token(0x98)).empty());
  CHECK(d.push(byte_token(0x80)) == "😀");
  CHECK(d.push(byte_token(0xF0)).empty());
  CHECK(d.finish() == "\xEF\xBF\xBD");
}

TEST_CASE("tokenizer is safe to share between threads", "[tokenizer]") {
  if (!have_qwen()) return;
  const Tokenizer& tok = r1_tokenizer();
  const auto corpus = wt::full_corpus();
  std::vector<std::vector<int32_t>> expected;
  for (const auto& line : corpus) expected.push_back(tok.encode(line));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = t; i < corpus.size(); i += 1 + t % 2)
          if (tok.encode(corpus[i]) != expected[i]) ++bad;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad == 0);
}

TEST_CASE("tiny tokenizer has exactly the asked vocabulary and R1's added tokens last", "[tokenizer]") {
  for (int32_t size : {300, 512, 4096}) {
    wt::TempFile out(".json"), cfg(".json");
    warden::engine::write_tiny_tokenizer(out.path(), size, cfg.path());
    simdjson::dom::parser parser;
    simdjson::padded_string config(wt::read_text_file(cfg.path()));
    auto root = parser.parse(config);
    CHECK(std::string_view(root["added_tokens_decoder"][std::to_string(size - 4)]["content"]) ==
          "<｜begin▁of▁sentence｜>");
    CHECK(std::string_view(root["bos_token"]) == "<｜begin▁of▁sentence｜>");
    const Tokenizer tok = Tokenizer::load(out.path());
    CHECK(tok.vocab_size() == size);
    CHECK(tok.token_id("<｜end▁of▁sentence｜>") == size - 7);
    CHECK(tok.token_id("<｜begin▁of▁sentence｜>") == size - 4);
    CHECK(tok.token_id("</think>") == size - 1);
    const std::string text = "The answer is 19. def f(x):\n    return x  # 中文 😀";
    const auto ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
    for (int32_t id : ids) CHECK((id >= 0 && id < size));
    if (size == 512) CHECK(ids.size() < text.size());  // merges were learned
  }
}

TEST_CASE("tokenizer_config.json written for R1 carries the chat template and bos/eos", "[tokenizer]") {
  if (!have_qwen()) return;
  wt::TempFile tok_out(".json"), cfg_out(".json");
  warden::engine::write_r1_distill_tokenizer(wt::qwen_tokenizer_path(), tok_out.path(), cfg_out.path());
  const std::string cfg = wt::read_text_file(cfg_out.path());
  simdjson::dom::parser parser;
  simdjson::padded_string padded(cfg);
  auto root = parser.parse(padded);
  CHECK(std::string_view(root["bos_token"]) == "<｜begin▁of▁sentence｜>");
  CHECK(std::string_view(root["eos_token"]) == "<｜end▁of▁sentence｜>");
  CHECK(std::string_view(root["chat_template"]) ==
        wt::read_text_file(wt::source_path("tests/engine_ref/r1_distill_chat_template.jinja")));
}

TEST_CASE("unsupported or broken tokenizer files are refused with a message", "[tokenizer]") {
  CHECK_THROWS_WITH(Tokenizer::load("/nonexistent/tokenizer.json"), Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(Tokenizer::from_json("{"), Catch::Contains("invalid JSON"));
  CHECK_THROWS_WITH(Tokenizer::from_json(R"({"model":{"type":"WordPiece","vocab":{}},
      "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":false},
      "decoder":{"type":"ByteLevel"}})"),
                    Catch::Contains("unsupported model"));
  CHECK_THROWS_WITH(Tokenizer::from_json(R"({"model":{"type":"BPE","vocab":{},"merges":[]},
      "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\w+"},
        "behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
      "decoder":{"type":"ByteLevel"}})"),
                    Catch::Contains("unsupported Split regex"));
}

TEST_CASE("warden tokenize prints HF's ids as a JSON array", "[tokenizer][node][cli]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: CLI not checked against HF");
    return;
  }
  const std::string text = "Hello, 世界! <|im_end|> 12345 'tis\n\n  x";
  wt::TempFile req(".json");
  std::string body = "{\"texts\":[";
  wt::append_json_string(body, text);
  body += "]}";
  req.write(body);
  const std::string ref =
      wt::run_node_reference("hf_tokenizer_ref.cjs", {wt::qwen_tokenizer_path(), req.path()});
  simdjson::dom::parser parser;
  simdjson::padded_string padded(ref);
  std::string expected = "[";
  bool first = true;
  for (auto id : parser.parse(padded)["encode"].at(0).get_array()) {
    expected += (first ? "" : ",") + std::to_string(int64_t(id));
    first = false;
  }
  expected += "]\n";

  std::string out;
  const std::string bin = wt::shell_quote(WARDEN_BINARY);
  const std::string tokenizer = wt::shell_quote(wt::qwen_tokenizer_path());
  CHECK(wt::run_command(bin + " tokenize --tokenizer " + tokenizer + " " + wt::shell_quote(text), out) == 0);
  CHECK(out == expected);
  // From stdin, byte for byte.
  wt::TempFile in(".txt");
  in.write(text);
  CHECK(wt::run_command(bin + " tokenize --tokenizer " + tokenizer + " < " + wt::shell_quote(in.path()), out) == 0);
  CHECK(out == expected);
  // A bad file is an error with a message, not an empty array.
  CHECK(wt::run_command(bin + " tokenize --tokenizer /nonexistent.json x 2>/dev/null", out) != 0);
}
