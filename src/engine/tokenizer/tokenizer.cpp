#include "warden/engine/tokenizer/tokenizer.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "code_point_classes.hpp"
#include "tokenizer_impl.hpp"
#include "utf8.hpp"
#include "warden/engine/tokenizer/incremental_decoder.hpp"

namespace warden::engine {

namespace {

// Text none of whose code points is kNfcUnsafe is already NFC; below U+0300 (lead bytes
// under 0xCC, and all continuation bytes) nothing is, so most bytes are skipped unread.
bool may_need_nfc(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0xCC) {
      ++i;
      continue;
    }
    if (tok::classify(tok::next_code_point(s, i)) & tok::kNfcUnsafe) return true;
  }
  return false;
}

std::string nfc(std::string_view s) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                          static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return std::string(s);  // cannot happen for well-formed input
  std::string out(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

}  // namespace

void Tokenizer::Impl::encode(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  std::string sanitized;
  if (!tok::is_valid_utf8(text)) {
    append_utf8_lossy(text, true, sanitized);
    text = sanitized;
  }
  if (raw_matcher.empty()) {
    encode_segment(text, parse_special, out);
    return;
  }
  std::vector<tok::AddedTokenMatcher::Piece> pieces;
  raw_matcher.split(text, parse_special, pieces);
  for (const auto& p : pieces) {
    if (p.id >= 0) out.push_back(p.id);
    else encode_segment(text.substr(p.begin, p.end - p.begin), parse_special, out);
  }
}

void Tokenizer::Impl::encode_segment(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  std::string normalized;
  if (nfc && may_need_nfc(text)) {
    normalized = engine::nfc(text);
    text = normalized;
  }
  if (normalized_matcher.empty()) {
    encode_normalized(text, out);
    return;
  }
  std::vector<tok::AddedTokenMatcher::Piece> pieces;
  normalized_matcher.split(text, parse_special, pieces);
  for (const auto& p : pieces) {
    if (p.id >= 0) out.push_back(p.id);
    else encode_normalized(text.substr(p.begin, p.end - p.begin), out);
  }
}

void Tokenizer::Impl::encode_normalized(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (splits.empty()) {
    bpe->encode_word(text, out);
    return;
  }
  thread_local tok::CodePoints cps;
  thread_local std::vector<std::pair<uint32_t, uint32_t>> ranges, next;
  cps.assign(text);
  ranges.clear();
  ranges.emplace_back(0, static_cast<uint32_t>(cps.cps.size()));
  for (tok::SplitPattern p : splits) {
    next.clear();
    for (const auto& [b, e] : ranges) tok::split_isolated(p, cps, b, e, next);
    ranges.swap(next);
  }
  for (const auto& [b, e] : ranges) {
    const uint32_t from = cps.offsets[b];
    bpe->encode_word(text.substr(from, cps.offsets[e] - from), out);
  }
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open tokenizer file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return from_json(ss.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

Tokenizer Tokenizer::from_json(std::string_view json) { return Tokenizer(parse_tokenizer_json(json)); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  impl_->encode(text, parse_special, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_with_special_tokens(std::string_view text, bool parse_special) const {
  if (impl_->post_single.empty()) return encode(text, parse_special);
  std::vector<int32_t> out;
  for (const auto& part : impl_->post_single) {
    if (part.sequence) impl_->encode(text, parse_special, out);
    else out.insert(out.end(), part.ids.begin(), part.ids.end());
  }
  return out;
}

size_t Tokenizer::count_tokens(std::string_view text, bool parse_special) const {
  thread_local std::vector<int32_t> scratch;
  scratch.clear();
  impl_->encode(text, parse_special, scratch);
  return scratch.size();
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string raw;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= impl_->flags.size()) continue;
    const uint8_t f = impl_->flags[id];
    if (!(f & Impl::kKnown) || (skip_special && (f & Impl::kSpecial))) continue;
    raw += impl_->bytes[id];
  }
  std::string out;
  out.reserve(raw.size());
  append_utf8_lossy(raw, true, out);
  return out;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (auto it = impl_->added_ids.find(token); it != impl_->added_ids.end()) return it->second;
  if (auto it = impl_->vocab.find(token); it != impl_->vocab.end()) return it->second;
  return std::nullopt;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->spelling.size()) return {};
  return impl_->spelling[id];
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->bytes.size()) return {};
  return impl_->bytes[id];
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[id] & Impl::kSpecial);
}

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[id] & Impl::kAdded);
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->flags.size()); }

}  // namespace warden::engine
