// Paged KV block manager with a hash-chain prefix cache (see block_manager.hpp).
#include "warden/engine/kv/block_manager.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace warden::engine::kv {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: cheap, well distributed
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t block_hash(uint64_t parent, std::span<const int32_t> tokens) {
  uint64_t h = mix(parent ^ 0x6a09e667f3bcc908ULL);
  for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t));
  return mix(h ^ tokens.size());
}

BlockManager::BlockManager(int32_t num_blocks, int32_t block_tokens, bool prefix_caching)
    : block_tokens_(block_tokens), prefix_caching_(prefix_caching), blocks_(num_blocks) {
  if (num_blocks <= 0 || block_tokens <= 0) throw std::invalid_argument("kv: num_blocks and block_tokens must be > 0");
  free_.reserve(num_blocks);
  // Stack order so block 0 is handed out first (easier to read in tests and dumps).
  for (int32_t i = num_blocks - 1; i >= 0; --i) free_.push_back(i);
}

int32_t BlockManager::acquire_prefix(std::span<const int32_t> tokens, int32_t max_tokens, BlockTable& table) {
  assert(table.blocks.empty());
  if (!prefix_caching_) return 0;
  int32_t limit = std::min<int32_t>(max_tokens, static_cast<int32_t>(tokens.size()));
  uint64_t parent = 0;
  int32_t covered = 0;
  while (covered + block_tokens_ <= limit) {
    auto chunk = tokens.subspan(covered, block_tokens_);
    uint64_t h = block_hash(parent, chunk);
    auto it = map_.find(h);
    if (it == map_.end()) break;
    Block& b = blocks_[it->second];
    if (!std::equal(chunk.begin(), chunk.end(), b.tokens.begin(), b.tokens.end())) break;
    if (b.in_lru) {
      lru_.erase(b.lru_pos);
      b.in_lru = false;
    }
    ++b.ref;
    table.blocks.push_back(it->second);
    table.hashes.push_back(h);
    parent = h;
    covered += block_tokens_;
  }
  return covered;
}

void BlockManager::record_lookup(int32_t hit_tokens, int32_t prompt_tokens) {
  if (!prefix_caching_) return;
  int32_t full = prompt_tokens / block_tokens_;
  int32_t hit = hit_tokens / block_tokens_;
  stats_.hit_blocks += hit;
  stats_.miss_blocks += std::max(0, full - hit);
  stats_.hit_tokens += hit_tokens;
}

int32_t BlockManager::blocks_needed(const BlockTable& table, int32_t num_tokens) const {
  int32_t want = (num_tokens + block_tokens_ - 1) / block_tokens_;
  return std::max(0, want - static_cast<int32_t>(table.blocks.size()));
}

bool BlockManager::grow(BlockTable& table, int32_t num_tokens) {
  int32_t need = blocks_needed(table, num_tokens);
  if (need > num_free_blocks()) return false;
  for (int32_t i = 0; i < need; ++i) table.blocks.push_back(take_block());
  return true;
}

int32_t BlockManager::take_block() {
  int32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    // Evict the least recently released cached block: its prefix is forgotten.
    id = lru_.front();
    lru_.pop_front();
    blocks_[id].in_lru = false;
    uncache(id);
    ++stats_.evictions;
  }
  Block& b = blocks_[id];
  assert(b.ref == 0 && !b.cached);
  b.ref = 1;
  return id;
}

void BlockManager::uncache(int32_t id) {
  Block& b = blocks_[id];
  if (!b.cached) return;
  auto it = map_.find(b.hash);
  if (it != map_.end() && it->second == id) map_.erase(it);
  b.cached = false;
  b.tokens.clear();
}

void BlockManager::publish(BlockTable& table, std::span<const int32_t> tokens, int32_t num_computed) {
  if (!prefix_caching_) return;
  int32_t full = std::min<int32_t>(num_computed / block_tokens_, static_cast<int32_t>(table.blocks.size()));
  while (static_cast<int32_t>(table.hashes.size()) < full) {
    size_t i = table.hashes.size();
    uint64_t parent = i == 0 ? 0 : table.hashes[i - 1];
    auto chunk = tokens.subspan(i * block_tokens_, block_tokens_);
    uint64_t h = block_hash(parent, chunk);
    table.hashes.push_back(h);
    int32_t id = table.blocks[i];
    Block& b = blocks_[id];
    if (b.cached) continue;  // came from the cache already
    // Another sequence may have published the same prefix first; keep that one and let
    // this private copy return to the free pool when released.
    if (map_.count(h)) continue;
    map_.emplace(h, id);
    b.cached = true;
    b.hash = h;
    b.tokens.assign(chunk.begin(), chunk.end());
  }
}

void BlockManager::release(BlockTable& table) {
  // Release back to front so that, among one sequence's blocks, the prefix head stays
  // most recently used and is evicted last (its tail is the least reusable part).
  for (auto it = table.blocks.rbegin(); it != table.blocks.rend(); ++it) {
    Block& b = blocks_[*it];
    assert(b.ref > 0);
    if (--b.ref > 0) continue;
    if (b.cached) {
      lru_.push_back(*it);
      b.lru_pos = std::prev(lru_.end());
      b.in_lru = true;
    } else {
      free_.push_back(*it);
    }
  }
  table.blocks.clear();
  table.hashes.clear();
}

}  // namespace warden::engine::kv
