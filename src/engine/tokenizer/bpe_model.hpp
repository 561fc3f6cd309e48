#pragma once
// Byte-level BPE: merge ranks over symbol ids, HF's merge order (lowest rank first,
// leftmost first among equals), and a bounded per-pre-token cache shared by threads.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "string_map.hpp"
#include <vector>

namespace warden::engine::tok {

class BpeModel {
 public:
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t merged;
  };

  // `byte_ids[b]` is the id of the one-byte token for byte b (-1 if the vocabulary lacks
  // it); `merges` in rank order; `whole_word_ids` maps raw bytes → id, used first when
  // ignore_merges is set (Llama 3).
  BpeModel(std::array<int32_t, 256> byte_ids, const std::vector<Merge>& merges, bool ignore_merges,
           const StringMap<int32_t>* whole_word_ids);

  // Appends the ids of one pre-token (raw bytes) to `out`.
  void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;

 private:
  struct MergeValue {
    int32_t rank;
    int32_t merged;
  };
  // Open addressing over (left << 32 | right); faster than std::unordered_map here.
  struct MergeTable {
    std::vector<uint64_t> keys;
    std::vector<MergeValue> values;
    uint64_t mask = 0;
    void build(const std::vector<Merge>& merges);
    const MergeValue* find(int32_t left, int32_t right) const;
  };

  void merge_word(std::string_view bytes, std::vector<int32_t>& out) const;

  std::array<int32_t, 256> byte_ids_;
  MergeTable merges_;
  bool ignore_merges_;
  const StringMap<int32_t>* whole_word_ids_;

  // Cache of pre-token → ids, sharded to keep lock contention low. Stops growing at
  // capacity (like HF's); long pre-tokens are not cached.
  static constexpr size_t kShards = 16;
  static constexpr size_t kShardCapacity = 4096;
  static constexpr size_t kMaxCachedBytes = 64;
  struct Shard {
    std::mutex mu;
    StringMap<std::vector<int32_t>> map;
  };
  mutable std::array<Shard, kShards> cache_;
};

}  // namespace warden::engine::tok
