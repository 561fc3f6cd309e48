#pragma once
// Small builders for Backend::forward batches, shared by the CPU backend, tensor
// parallel and CUDA model tests (the batch shape is the door they all test through).
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "warden/engine/backend.hpp"

namespace warden::test {

// One sequence's part of a step: n_new tokens after `cached` already in its KV blocks.
inline engine::SequenceSlice slice(int32_t n_new, int32_t cached, std::vector<int32_t> table, bool logits = true) {
  engine::SequenceSlice s;
  s.num_new_tokens = n_new;
  s.num_cached_tokens = cached;
  s.block_table = std::move(table);
  s.need_logits = logits;
  return s;
}

// Consecutive block ids first, first+1, ….
inline std::vector<int32_t> blocks(int32_t first, int32_t count) {
  std::vector<int32_t> b(static_cast<size_t>(count));
  std::iota(b.begin(), b.end(), first);
  return b;
}

// n token ids uniform in [0, vocab), reproducible from seed.
inline std::vector<int32_t> random_tokens(size_t n, uint32_t seed, int32_t vocab) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
  return t;
}

}  // namespace warden::test
