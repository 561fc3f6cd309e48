// libFuzzer target: the tokenizer — encode of arbitrary bytes (with and without special
// tokens; also the exact count), decode of arbitrary ids (in and out of range, with and
// without skipping specials). A small self-contained byte-level BPE (R1 added tokens).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"

namespace {
const warden::engine::Tokenizer& tok() {
  static const warden::engine::Tokenizer t = [] {
    std::string path = "/tmp/warden-fuzz-tokenizer-" + std::to_string(::getpid()) + ".json";
    warden::engine::write_tiny_tokenizer(path, 1000);
    auto loaded = warden::engine::Tokenizer::load(path);
    ::unlink(path.c_str());
    return loaded;
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& t = tok();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ids = t.encode(text, size % 2 == 0);
  auto back = t.decode(ids);
  std::vector<int32_t> raw(size / 4);
  if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * 4);
  auto s1 = t.decode(raw, false);
  auto s2 = t.decode(raw, true);
  return static_cast<int>(back.size() + s1.size() + s2.size()) == -1;
}
