#pragma once
// Added tokens (<|im_end|>, <｜User｜>, <think>, ...): found in the text before anything
// else, leftmost-longest like HF's Aho-Corasick (MatchKind::LeftmostLongest).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace warden::engine::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;
};

class AddedTokenMatcher {
 public:
  void build(const std::vector<AddedToken>& tokens);  // tokens must outlive the matcher
  bool empty() const { return tokens_.empty(); }

  struct Piece {
    size_t begin;
    size_t end;
    int32_t id;  // -1: plain text to tokenize
  };
  // Splits `text` into added-token matches and the text between them. Matches of special
  // tokens are left as text when !parse_special (HF encode_special_tokens), and scanning
  // resumes after them as HF's find_iter does.
  void split(std::string_view text, bool parse_special, std::vector<Piece>& out) const;

 private:
  struct Node {
    int32_t token = -1;  // index into tokens_ when a token ends here
    std::vector<std::pair<uint8_t, int32_t>> edges;
  };
  int32_t child(int32_t node, uint8_t byte) const;
  // Longest token starting at text[i]: its index, or -1; `len` receives its length.
  int32_t longest_at(std::string_view text, size_t i, size_t& len) const;

  std::vector<const AddedToken*> tokens_;
  std::vector<Node> nodes_;
  std::array<bool, 256> first_byte_{};
};

}  // namespace warden::engine::tok
