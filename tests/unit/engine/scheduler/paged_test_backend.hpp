#pragma once
// A small deterministic Backend for serving-machinery tests (a real implementation of the
// door, not a mock): it keeps a real paged KV pool, writes each new token's "K/V" (token id
// and position) into the slot its block table names, and computes every logit from the
// whole context READ BACK THROUGH THE BLOCK TABLE. A wrong block table, a prefix-cache hit
// on the wrong block or a lost block after preemption changes the logits, so the greedy
// output exposes it. Logits depend only on the sequence's own context (batch invariant).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "warden/engine/backend.hpp"

namespace warden::engine::testing {

class PagedTestBackend : public Backend {
 public:
  explicit PagedTestBackend(int32_t vocab = 64, int32_t max_context = 4096) : vocab_(vocab), max_context_(max_context) {}

  void allocate_kv(int32_t num_blocks, int32_t block_tokens) override {
    block_tokens_ = block_tokens;
    pool_.assign(static_cast<size_t>(num_blocks) * block_tokens, -1);
  }
  size_t kv_bytes_per_block(int32_t block_tokens) const override { return static_cast<size_t>(block_tokens) * 8; }

  void forward(const ForwardBatch& batch, std::vector<float>& logits) override {
    ++forward_calls;
    size_t at = 0;
    for (const auto& s : batch.seqs) {
      tokens_seen += s.num_new_tokens;
      int32_t end = s.num_cached_tokens + s.num_new_tokens;
      if (static_cast<int64_t>(s.block_table.size()) * block_tokens_ < end)
        throw std::runtime_error("block table does not cover the slice");
      for (int32_t i = 0; i < s.num_new_tokens; ++i) {
        int32_t pos = s.num_cached_tokens + i;
        slot(s.block_table, pos) = encode(batch.tokens.at(at + i), pos);
      }
      at += static_cast<size_t>(s.num_new_tokens);
      if (!s.need_logits) continue;
      uint64_t h = 0x12345;
      for (int32_t pos = 0; pos < end; ++pos) {
        int64_t v = slot(s.block_table, pos);
        if (v < 0 || v % 65536 != pos) throw std::runtime_error("KV slot at position " + std::to_string(pos) + " was never written");
        h = mix(h ^ static_cast<uint64_t>(v));
      }
      for (int32_t v = 0; v < vocab_; ++v)
        logits.push_back(static_cast<float>((mix(h ^ (static_cast<uint64_t>(v) * 0x9e37)) >> 40) & 0xffff) / 4096.0f);
    }
    if (at != batch.tokens.size()) throw std::runtime_error("tokens do not match slices");
  }
  int32_t vocab_size() const override { return vocab_; }
  int32_t max_context() const override { return max_context_; }
  std::string name() const override { return "paged-test"; }

  int64_t forward_calls = 0;
  int64_t tokens_seen = 0;

  // What the same "model" gives for a whole context computed at once (the reference).
  std::vector<float> reference_logits(const std::vector<int32_t>& ctx) const {
    uint64_t h = 0x12345;
    for (int32_t pos = 0; pos < static_cast<int32_t>(ctx.size()); ++pos) h = mix(h ^ static_cast<uint64_t>(encode(ctx[pos], pos)));
    std::vector<float> out;
    for (int32_t v = 0; v < vocab_; ++v)
      out.push_back(static_cast<float>((mix(h ^ (static_cast<uint64_t>(v) * 0x9e37)) >> 40) & 0xffff) / 4096.0f);
    return out;
  }

 private:
  static int64_t encode(int32_t token, int32_t pos) { return static_cast<int64_t>(token) * 65536 + pos; }
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  int64_t& slot(const std::vector<int32_t>& table, int32_t pos) {
    int32_t b = table.at(static_cast<size_t>(pos / block_tokens_));
    return pool_.at(static_cast<size_t>(b) * block_tokens_ + pos % block_tokens_);
  }

  int32_t vocab_;
  int32_t max_context_;
  int32_t block_tokens_ = 16;
  std::vector<int64_t> pool_;
};

}  // namespace warden::engine::testing
