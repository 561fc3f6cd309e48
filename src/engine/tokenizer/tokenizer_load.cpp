// tokenizer.json → Tokenizer::Impl. Anything this reader does not implement exactly is
// rejected with a message rather than tokenized differently from Hugging Face.
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "byte_level.hpp"
#include "utf8.hpp"
#include "tokenizer_impl.hpp"

namespace warden::engine {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("tokenizer.json: " + what); }

std::string_view type_of(element e) {
  std::string_view t;
  if (e.type() != simdjson::dom::element_type::OBJECT || e["type"].get(t)) fail("component without a type");
  return t;
}

bool opt_bool(element e, const char* key, bool fallback) {
  bool v;
  if (e[key].get(v)) return fallback;
  return v;
}

std::string_view opt_string(element e, const char* key) {
  std::string_view v;
  if (e[key].get(v)) return {};
  return v;
}

bool is_null_or_missing(element e, const char* key) {
  element v;
  return e[key].get(v) != simdjson::SUCCESS || v.is_null();
}

void read_normalizer(element n, Tokenizer::Impl& t) {
  if (n.is_null()) return;
  const std::string_view type = type_of(n);
  if (type == "NFC") {
    t.nfc = true;
  } else if (type == "Sequence") {
    array items;
    if (n["normalizers"].get(items)) fail("Sequence normalizer without normalizers");
    for (element item : items) read_normalizer(item, t);
  } else {
    fail("unsupported normalizer " + std::string(type));
  }
}

void read_byte_level(element p, Tokenizer::Impl& t) {
  if (opt_bool(p, "add_prefix_space", false)) fail("ByteLevel add_prefix_space=true is not supported");
  // HF's default: the GPT-2 split, applied after any Split before it.
  if (opt_bool(p, "use_regex", true)) t.splits.push_back(tok::SplitPattern::kGpt2);
}

void read_pre_tokenizer(element p, Tokenizer::Impl& t, bool& saw_byte_level) {
  if (p.is_null()) return;
  const std::string_view type = type_of(p);
  if (type == "Sequence") {
    array items;
    if (p["pretokenizers"].get(items)) fail("Sequence pre_tokenizer without pretokenizers");
    for (element item : items) read_pre_tokenizer(item, t, saw_byte_level);
  } else if (type == "Split") {
    if (saw_byte_level) fail("Split after ByteLevel is not supported");
    std::string_view regex;
    if (p["pattern"]["Regex"].get(regex)) fail("Split with a String pattern is not supported");
    if (opt_string(p, "behavior") != "Isolated") fail("Split behavior other than Isolated is not supported");
    if (opt_bool(p, "invert", false)) fail("Split invert=true is not supported");
    auto pattern = tok::recognise_split_pattern(regex);
    if (!pattern) fail("unsupported Split regex: " + std::string(regex));
    t.splits.push_back(*pattern);
  } else if (type == "ByteLevel") {
    read_byte_level(p, t);
    saw_byte_level = true;
  } else {
    fail("unsupported pre_tokenizer " + std::string(type));
  }
}

void read_post_processor(element p, Tokenizer::Impl& t) {
  if (p.is_null()) return;
  const std::string_view type = type_of(p);
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "Sequence") {
    array items;
    if (p["processors"].get(items)) fail("Sequence post_processor without processors");
    for (element item : items) read_post_processor(item, t);
    return;
  }
  if (type != "TemplateProcessing") fail("unsupported post_processor " + std::string(type));
  array single;
  object specials;
  if (p["single"].get(single) || p["special_tokens"].get(specials)) fail("malformed TemplateProcessing");
  t.post_single.clear();
  for (element part : single) {
    std::string_view name;
    if (!part["Sequence"].error()) {
      t.post_single.push_back({true, {}});
    } else if (!part["SpecialToken"]["id"].get(name)) {
      array ids;
      if (specials[name]["ids"].get(ids)) fail("TemplateProcessing special token without ids");
      Tokenizer::Impl::TemplatePart tp;
      for (element id : ids) tp.ids.push_back(static_cast<int32_t>(int64_t(id)));
      t.post_single.push_back(std::move(tp));
    } else {
      fail("malformed TemplateProcessing part");
    }
  }
}

void read_model(element m, Tokenizer::Impl& t, std::vector<tok::BpeModel::Merge>& merges, bool& ignore_merges) {
  if (type_of(m) != "BPE") fail("unsupported model " + std::string(type_of(m)));
  if (opt_bool(m, "byte_fallback", false)) fail("BPE byte_fallback is not supported");
  if (!opt_string(m, "continuing_subword_prefix").empty() || !opt_string(m, "end_of_word_suffix").empty())
    fail("BPE subword prefix/suffix is not supported");
  if (!is_null_or_missing(m, "dropout")) fail("BPE dropout is not supported");
  ignore_merges = opt_bool(m, "ignore_merges", false);
  object vocab;
  if (m["vocab"].get(vocab)) fail("BPE without vocab");
  t.vocab.reserve(vocab.size() * 2);
  for (auto field : vocab) {
    int64_t id;
    if (field.value.get(id) || id < 0 || id > (1 << 30)) fail("bad vocab id");
    t.vocab.emplace(std::string(field.key), static_cast<int32_t>(id));
  }
  array list;
  if (m["merges"].get(list)) fail("BPE without merges");
  merges.reserve(list.size());
  std::string joined;
  auto lookup = [&](std::string_view s) {
    auto it = t.vocab.find(s);
    if (it == t.vocab.end()) fail("merge refers to a token not in the vocab: " + std::string(s));
    return it->second;
  };
  for (element e : list) {
    std::string_view a, b;
    std::string_view line;
    if (!e.get(line)) {
      const size_t sp = line.find(' ');
      if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
        fail("malformed merge: " + std::string(line));
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else {
      array pair;
      if (e.get(pair) || pair.size() != 2 || pair.at(0).get(a) || pair.at(1).get(b)) fail("malformed merge");
    }
    joined.assign(a).append(b);
    merges.push_back({lookup(a), lookup(b), lookup(joined)});
  }
}

}  // namespace

std::shared_ptr<const Tokenizer::Impl> parse_tokenizer_json(std::string_view json) {
  auto t = std::make_shared<Tokenizer::Impl>();
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root)) fail(std::string("invalid JSON: ") + simdjson::error_message(err));

  element section;
  if (!root["normalizer"].get(section)) read_normalizer(section, *t);
  bool saw_byte_level = false;
  if (!root["pre_tokenizer"].get(section)) read_pre_tokenizer(section, *t, saw_byte_level);
  if (!saw_byte_level) fail("only byte-level BPE tokenizers are supported (no ByteLevel pre_tokenizer)");
  if (root["decoder"].get(section) || section.is_null() || type_of(section) != "ByteLevel")
    fail("only the ByteLevel decoder is supported");
  if (!root["post_processor"].get(section)) read_post_processor(section, *t);

  std::vector<tok::BpeModel::Merge> merges;
  bool ignore_merges = false;
  if (root["model"].get(section)) fail("no model");
  read_model(section, *t, merges, ignore_merges);

  array added;
  if (!root["added_tokens"].get(added)) {
    for (element a : added) {
      tok::AddedToken tk;
      int64_t id;
      std::string_view content;
      if (a["id"].get(id) || a["content"].get(content) || id < 0 || id > (1 << 30)) fail("malformed added token");
      if (opt_bool(a, "lstrip", false) || opt_bool(a, "rstrip", false) || opt_bool(a, "single_word", false))
        fail("added token lstrip/rstrip/single_word is not supported: " + std::string(content));
      tk.id = static_cast<int32_t>(id);
      tk.content = std::string(content);
      tk.special = opt_bool(a, "special", false);
      tk.normalized = opt_bool(a, "normalized", !tk.special);
      t->added.push_back(std::move(tk));
    }
  }

  // Id tables.
  int32_t max_id = -1;
  for (const auto& [s, id] : t->vocab) max_id = std::max(max_id, id);
  for (const auto& a : t->added) max_id = std::max(max_id, a.id);
  const size_t n = static_cast<size_t>(max_id + 1);
  t->spelling.assign(n, {});
  t->bytes.assign(n, {});
  t->flags.assign(n, 0);
  const auto& bl = tok::ByteLevel::instance();
  for (const auto& [s, id] : t->vocab) {
    t->spelling[id] = s;
    auto raw = bl.to_bytes(s);
    // HF's ByteLevel decoder falls back to the token's own UTF-8 when a character is
    // outside the byte alphabet.
    t->bytes[id] = raw ? std::move(*raw) : s;
    t->flags[id] |= Tokenizer::Impl::kKnown;
    if (ignore_merges) t->bytes_to_id.emplace(t->bytes[id], id);
  }
  for (const auto& a : t->added) {
    t->spelling[a.id] = a.content;
    t->bytes[a.id] = a.content;  // decoded verbatim
    t->flags[a.id] |= Tokenizer::Impl::kKnown | Tokenizer::Impl::kAdded |
                      (a.special ? Tokenizer::Impl::kSpecial : 0);
    t->added_ids.emplace(a.content, a.id);
  }

  // HF splits on normalized=false tokens in the raw text, then on normalized=true ones in
  // the normalized remainder. The matchers point into these two vectors.
  for (const auto& a : t->added) (a.normalized ? t->normalized_added : t->raw_added).push_back(a);
  t->raw_matcher.build(t->raw_added);
  t->normalized_matcher.build(t->normalized_added);

  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    tok::append_utf8(s, bl.char_of(static_cast<uint8_t>(b)));
    auto it = t->vocab.find(s);
    byte_ids[b] = it == t->vocab.end() ? -1 : it->second;
  }
  t->bpe = std::make_unique<tok::BpeModel>(byte_ids, merges, ignore_merges,
                                           ignore_merges ? &t->bytes_to_id : nullptr);
  return t;
}

}  // namespace warden::engine
