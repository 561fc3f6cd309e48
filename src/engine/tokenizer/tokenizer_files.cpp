// Placeholder until the writers land (same commit series).
#include "warden/engine/tokenizer/tokenizer_files.hpp"

#include <stdexcept>

namespace warden::engine {

void write_r1_distill_tokenizer(const std::string&, const std::string&, const std::string&) {
  throw std::runtime_error("write_r1_distill_tokenizer: not implemented yet");
}

void write_tiny_tokenizer(const std::string&, int32_t) {
  throw std::runtime_error("write_tiny_tokenizer: not implemented yet");
}

}  // namespace warden::engine
