#include "warden/engine/tokenizer/incremental_decoder.hpp"

namespace warden::engine {

std::string IncrementalDecoder::push(int32_t id) {
  if (skip_special_ && tokenizer_->is_special(id)) return {};
  pending_ += tokenizer_->token_bytes(id);
  std::string out;
  const size_t used = append_utf8_lossy(pending_, false, out);
  pending_.erase(0, used);
  return out;
}

std::string IncrementalDecoder::finish() {
  std::string out;
  append_utf8_lossy(pending_, true, out);
  pending_.clear();
  return out;
}

}  // namespace warden::engine
