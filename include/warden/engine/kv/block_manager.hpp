#pragma once
// Paged KV bookkeeping: which physical blocks a sequence uses, reference counts, and the
// prefix cache. A block is shared only once it is FULL and its contents are computed; the
// cache key of block i is hash(key of block i-1, token ids of block i), so equal keys mean
// equal prefixes (the token ids are also kept and compared, so a hash collision cannot
// alias two prefixes). Free blocks that still hold a cached prefix are evicted LRU.
// Not thread-safe: owned by the engine's scheduler thread.
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace warden::engine::kv {

// The blocks of one sequence, in position order.
struct BlockTable {
  std::vector<int32_t> blocks;
  // Chain key of each leading full block that has been published (hashes.size() <= blocks.size()).
  std::vector<uint64_t> hashes;
};

struct PrefixCacheStats {
  int64_t hit_blocks = 0;   // full prompt blocks found in the cache at admission
  int64_t miss_blocks = 0;  // full prompt blocks that had to be computed
  int64_t hit_tokens = 0;
  int64_t evictions = 0;
  double hit_rate() const {
    int64_t n = hit_blocks + miss_blocks;
    return n == 0 ? 0.0 : static_cast<double>(hit_blocks) / static_cast<double>(n);
  }
};

// Chain key of a full block. Deterministic across runs and platforms.
uint64_t block_hash(uint64_t parent, std::span<const int32_t> tokens);

class BlockManager {
 public:
  BlockManager(int32_t num_blocks, int32_t block_tokens, bool prefix_caching);

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t block_tokens() const { return block_tokens_; }
  bool prefix_caching() const { return prefix_caching_; }
  // Blocks a sequence could get right now: never-used ones plus evictable cached ones.
  int32_t num_free_blocks() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  // Blocks referenced by at least one sequence.
  int32_t num_used_blocks() const { return num_blocks() - num_free_blocks(); }
  // Free blocks that still hold a cached prefix.
  int32_t num_cached_free_blocks() const { return static_cast<int32_t>(lru_.size()); }

  // Finds the longest run of cached full blocks that prefixes tokens[0, max_tokens), takes a
  // reference on each, appends them to an EMPTY `table` (blocks and hashes) and returns the
  // number of tokens they cover. Does not count hit/miss (see record_lookup).
  int32_t acquire_prefix(std::span<const int32_t> tokens, int32_t max_tokens, BlockTable& table);
  // Counts an admission's lookup: `hit_tokens` of a prompt of `prompt_tokens` came from cache.
  void record_lookup(int32_t hit_tokens, int32_t prompt_tokens);

  // Blocks to add so that `table` covers num_tokens positions.
  int32_t blocks_needed(const BlockTable& table, int32_t num_tokens) const;
  // Adds fresh blocks so `table` covers num_tokens. Returns false, changing nothing, when
  // there are not enough free blocks.
  bool grow(BlockTable& table, int32_t num_tokens);
  // Publishes the full blocks covering the computed tokens[0, num_computed) in the prefix
  // cache (a no-op when prefix caching is off). Call after their K/V were written.
  void publish(BlockTable& table, std::span<const int32_t> tokens, int32_t num_computed);
  // Drops the table's references and empties it. Blocks nobody references go back to the
  // free pool; those holding a published prefix stay findable until evicted.
  void release(BlockTable& table);

  int32_t ref_count(int32_t block) const { return blocks_[block].ref; }
  bool is_cached(int32_t block) const { return blocks_[block].cached; }
  const PrefixCacheStats& stats() const { return stats_; }

 private:
  struct Block {
    int32_t ref = 0;
    bool cached = false;  // holds a published prefix and is in map_
    uint64_t hash = 0;
    std::vector<int32_t> tokens;  // contents when cached, compared on lookup
    std::list<int32_t>::iterator lru_pos;
    bool in_lru = false;
  };

  int32_t take_block();  // requires num_free_blocks() > 0
  void uncache(int32_t id);

  int32_t block_tokens_;
  bool prefix_caching_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;  // unreferenced and not cached (stack: reuse hot blocks first)
  std::list<int32_t> lru_;     // unreferenced but cached; front = least recently released
  std::unordered_map<uint64_t, int32_t> map_;  // chain key → block
  PrefixCacheStats stats_;
};

}  // namespace warden::engine::kv
