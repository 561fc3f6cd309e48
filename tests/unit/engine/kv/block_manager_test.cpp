// Block manager: ref counts, hash-chain prefix cache, LRU eviction, hit rate.
#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "warden/engine/kv/block_manager.hpp"

using warden::engine::kv::BlockManager;
using warden::engine::kv::BlockTable;

namespace {

std::vector<int32_t> seq(int32_t n, int32_t start = 100) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

// Admission as the scheduler does it: cached prefix, then fresh blocks for the rest.
int32_t admit(BlockManager& bm, const std::vector<int32_t>& tokens, BlockTable& t) {
  int32_t cached = bm.acquire_prefix(tokens, static_cast<int32_t>(tokens.size()) - 1, t);
  REQUIRE(bm.grow(t, static_cast<int32_t>(tokens.size())));
  bm.record_lookup(cached, static_cast<int32_t>(tokens.size()));
  bm.publish(t, tokens, static_cast<int32_t>(tokens.size()));
  return cached;
}

}  // namespace

TEST_CASE("blocks are allocated to cover tokens and freed on release", "[engine][kv]") {
  BlockManager bm(8, 4, false);
  BlockTable t;
  CHECK(bm.blocks_needed(t, 9) == 3);
  REQUIRE(bm.grow(t, 9));
  CHECK(t.blocks.size() == 3);
  CHECK(bm.num_used_blocks() == 3);
  CHECK(bm.num_free_blocks() == 5);
  for (int32_t b : t.blocks) CHECK(bm.ref_count(b) == 1);
  REQUIRE(bm.grow(t, 12));  // still inside the third block
  CHECK(t.blocks.size() == 3);
  REQUIRE(bm.grow(t, 13));
  CHECK(t.blocks.size() == 4);
  BlockTable big;
  CHECK_FALSE(bm.grow(big, 4 * 5));  // 5 blocks wanted, 4 free: nothing taken
  CHECK(big.blocks.empty());
  CHECK(bm.num_free_blocks() == 4);
  bm.release(t);
  CHECK(t.blocks.empty());
  CHECK(bm.num_used_blocks() == 0);
  CHECK(bm.num_free_blocks() == 8);
}

TEST_CASE("a shared prefix is found by its hash chain and reference counted", "[engine][kv]") {
  BlockManager bm(16, 4, true);
  auto a = seq(10);  // 2 full blocks + 2 tokens
  BlockTable ta;
  CHECK(admit(bm, a, ta) == 0);
  CHECK(bm.is_cached(ta.blocks[0]));
  CHECK(bm.is_cached(ta.blocks[1]));
  CHECK_FALSE(bm.is_cached(ta.blocks[2]));  // partial block is never shared

  // Same first 8 tokens, different tail.
  auto b = a;
  b[9] = 7;
  b.push_back(8);
  BlockTable tb;
  CHECK(admit(bm, b, tb) == 8);
  CHECK(tb.blocks[0] == ta.blocks[0]);
  CHECK(tb.blocks[1] == ta.blocks[1]);
  CHECK(tb.blocks[2] != ta.blocks[2]);
  CHECK(bm.ref_count(ta.blocks[0]) == 2);
  CHECK(bm.ref_count(ta.blocks[2]) == 1);

  // A different first block breaks the chain even if the second block's tokens match.
  auto c = a;
  c[0] = 1;
  BlockTable tc;
  CHECK(admit(bm, c, tc) == 0);

  // Stats: a: 2 miss, b: 2 hit (of 2 full), c: 2 miss.
  CHECK(bm.stats().hit_blocks == 2);
  CHECK(bm.stats().miss_blocks == 4);
  CHECK(bm.stats().hit_rate() == Approx(2.0 / 6.0));
  CHECK(bm.stats().hit_tokens == 8);

  bm.release(ta);
  CHECK(bm.ref_count(tb.blocks[0]) == 1);
  bm.release(tb);
  bm.release(tc);
  CHECK(bm.num_used_blocks() == 0);
  // Released full blocks stay findable.
  CHECK(bm.num_cached_free_blocks() == 4);
  BlockTable again;
  CHECK(bm.acquire_prefix(a, 10, again) == 8);
  bm.release(again);
}

TEST_CASE("the prefix lookup never covers the token that must produce logits", "[engine][kv]") {
  BlockManager bm(8, 4, true);
  auto a = seq(8);  // exactly 2 full blocks
  BlockTable ta;
  admit(bm, a, ta);
  bm.release(ta);
  BlockTable t;
  // Scheduler asks for at most len-1 = 7 tokens: only the first block can be reused.
  CHECK(bm.acquire_prefix(a, 7, t) == 4);
  bm.release(t);
}

TEST_CASE("free cached blocks are evicted least recently used first", "[engine][kv]") {
  BlockManager bm(4, 2, true);
  auto a = seq(2, 10), b = seq(2, 20), c = seq(2, 30);
  BlockTable ta, tb, tc;
  admit(bm, a, ta);  // 1 block each (len 2 = one full block)
  admit(bm, b, tb);
  admit(bm, c, tc);
  bm.release(ta);  // LRU order: a, b, c
  bm.release(tb);
  bm.release(tc);
  // Touch a again: now b is the least recently used.
  BlockTable ta2;
  CHECK(bm.acquire_prefix(seq(3, 10), 2, ta2) == 2);
  bm.release(ta2);
  CHECK(bm.num_free_blocks() == 4);
  // Need 2 blocks: the one never used, then the LRU cached one (b).
  BlockTable fresh;
  REQUIRE(bm.grow(fresh, 4));
  CHECK(bm.stats().evictions == 1);
  BlockTable probe;
  CHECK(bm.acquire_prefix(seq(3, 20), 2, probe) == 0);  // b evicted
  CHECK(bm.acquire_prefix(seq(3, 30), 2, probe) == 2);  // c kept
  bm.release(probe);
  BlockTable probe2;
  CHECK(bm.acquire_prefix(seq(3, 10), 2, probe2) == 2);  // a kept
  bm.release(probe2);
  bm.release(fresh);
}

TEST_CASE("a block in use is never evicted and an identical prefix published twice keeps one owner",
          "[engine][kv]") {
  BlockManager bm(4, 2, true);
  auto a = seq(4, 50);
  BlockTable t1, t2;
  // Two sequences compute the same prefix concurrently (neither found it cached).
  REQUIRE(bm.grow(t1, 4));
  REQUIRE(bm.grow(t2, 4));
  bm.publish(t1, a, 4);
  bm.publish(t2, a, 4);
  CHECK(bm.is_cached(t1.blocks[0]));
  CHECK_FALSE(bm.is_cached(t2.blocks[0]));
  BlockTable t3;
  CHECK_FALSE(bm.grow(t3, 2));  // all 4 blocks referenced: nothing to evict
  bm.release(t2);               // private copies go straight back to the free pool
  CHECK(bm.num_cached_free_blocks() == 0);
  CHECK(bm.num_free_blocks() == 2);
  bm.release(t1);
  CHECK(bm.num_cached_free_blocks() == 2);
}

TEST_CASE("prefix caching off shares nothing", "[engine][kv]") {
  BlockManager bm(8, 4, false);
  auto a = seq(9);
  BlockTable t1, t2;
  admit(bm, a, t1);
  CHECK(admit(bm, a, t2) == 0);
  CHECK(bm.stats().hit_rate() == 0.0);
  bm.release(t1);
  bm.release(t2);
}
