#include "bpe_model.hpp"

#include <functional>
#include <algorithm>

namespace warden::engine::tok {

namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t kEmpty = ~0ull;

}  // namespace

void BpeModel::MergeTable::build(const std::vector<Merge>& merges) {
  size_t cap = 16;
  while (cap < merges.size() * 2) cap <<= 1;
  keys.assign(cap, kEmpty);
  values.assign(cap, MergeValue{0, 0});
  mask = cap - 1;
  for (size_t r = 0; r < merges.size(); ++r) {
    const uint64_t key = pair_key(merges[r].left, merges[r].right);
    size_t slot = mix(key) & mask;
    while (keys[slot] != kEmpty && keys[slot] != key) slot = (slot + 1) & mask;
    if (keys[slot] == key) continue;  // a duplicate merge keeps its first (best) rank
    keys[slot] = key;
    values[slot] = MergeValue{static_cast<int32_t>(r), merges[r].merged};
  }
}

const BpeModel::MergeValue* BpeModel::MergeTable::find(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  const uint64_t key = pair_key(left, right);
  size_t slot = mix(key) & mask;
  while (true) {
    const uint64_t k = keys[slot];
    if (k == key) return &values[slot];
    if (k == kEmpty) return nullptr;
    slot = (slot + 1) & mask;
  }
}

BpeModel::BpeModel(std::array<int32_t, 256> byte_ids, const std::vector<Merge>& merges, bool ignore_merges,
                   const StringMap<int32_t>* whole_word_ids)
    : byte_ids_(byte_ids), ignore_merges_(ignore_merges), whole_word_ids_(whole_word_ids) {
  merges_.build(merges);
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
  if (bytes.empty()) return;
  if (ignore_merges_ && whole_word_ids_ != nullptr) {
    auto it = whole_word_ids_->find(bytes);
    if (it != whole_word_ids_->end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (bytes.size() == 1) {
    if (byte_ids_[static_cast<unsigned char>(bytes[0])] >= 0)
      out.push_back(byte_ids_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  if (bytes.size() > kMaxCachedBytes) {
    merge_word(bytes, out);
    return;
  }
  Shard& shard = cache_[std::hash<std::string_view>{}(bytes) % kShards];
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(bytes);
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  merge_word(bytes, out);
  std::lock_guard lock(shard.mu);
  if (shard.map.size() < kShardCapacity)
    shard.map.emplace(std::string(bytes), std::vector<int32_t>(out.begin() + start, out.end()));
}

// HF tokenizers' Word::merge_all: a min-heap of candidate merges (rank, then position)
// over a doubly linked list of symbols; stale heap entries are skipped on pop.
void BpeModel::merge_word(std::string_view bytes, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  symbols.clear();
  const int32_t n = static_cast<int32_t>(bytes.size());
  for (int32_t i = 0; i < n; ++i) {
    const int32_t id = byte_ids_[static_cast<unsigned char>(bytes[i])];
    symbols.push_back(Symbol{id, i - 1, i + 1 < n ? i + 1 : -1, true});
  }
  heap.clear();
  const auto later = std::greater<Candidate>{};  // makes std::*_heap a min-heap
  auto push = [&](Candidate c) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) {
    if (const MergeValue* m = merges_.find(symbols[i].id, symbols[i + 1].id))
      push(Candidate{m->rank, i, m->merged});
  }
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& cur = symbols[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const MergeValue* m = merges_.find(cur.id, symbols[next_pos].id);
    if (m == nullptr || m->merged != top.merged) continue;  // stale entry
    cur.id = top.merged;
    symbols[next_pos].alive = false;
    cur.next = symbols[next_pos].next;
    if (cur.next >= 0) symbols[cur.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (const MergeValue* pm = merges_.find(symbols[cur.prev].id, cur.id))
        push(Candidate{pm->rank, cur.prev, pm->merged});
    }
    if (cur.next >= 0) {
      if (const MergeValue* nm = merges_.find(cur.id, symbols[cur.next].id))
        push(Candidate{nm->rank, top.pos, nm->merged});
    }
  }
  for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) {
    if (symbols[i].id >= 0) out.push_back(symbols[i].id);
  }
}

}  // namespace warden::engine::tok
