#include "added_vocabulary.hpp"

namespace warden::engine::tok {

void AddedTokenMatcher::build(const std::vector<AddedToken>& tokens) {
  tokens_.clear();
  nodes_.assign(1, Node{});
  first_byte_.fill(false);
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    const auto index = static_cast<int32_t>(tokens_.size());
    tokens_.push_back(&t);
    int32_t node = 0;
    for (unsigned char b : t.content) {
      int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_[node].edges.emplace_back(b, next);
        nodes_.emplace_back();
      }
      node = next;
    }
    if (nodes_[node].token < 0) nodes_[node].token = index;  // first spelling wins
    first_byte_[static_cast<unsigned char>(t.content[0])] = true;
  }
}

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, next] : nodes_[node].edges) {
    if (b == byte) return next;
  }
  return -1;
}

int32_t AddedTokenMatcher::longest_at(std::string_view text, size_t i, size_t& len) const {
  int32_t best = -1;
  int32_t node = 0;
  for (size_t k = i; k < text.size(); ++k) {
    node = child(node, static_cast<uint8_t>(text[k]));
    if (node < 0) break;
    if (nodes_[node].token >= 0) {
      best = nodes_[node].token;
      len = k + 1 - i;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special, std::vector<Piece>& out) const {
  size_t gap = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    size_t len = 0;
    const int32_t t = longest_at(text, i, len);
    if (t < 0) {
      ++i;
      continue;
    }
    if (tokens_[t]->special && !parse_special) {
      i += len;  // stays part of the surrounding text
      continue;
    }
    if (i > gap) out.push_back(Piece{gap, i, -1});
    out.push_back(Piece{i, i + len, tokens_[t]->id});
    i = gap = i + len;
  }
  if (gap < text.size()) out.push_back(Piece{gap, text.size(), -1});
}

}  // namespace warden::engine::tok
