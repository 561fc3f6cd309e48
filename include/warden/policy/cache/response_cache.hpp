#pragma once
// Exact-match response cache store: bounded LRU, sharded with one lock per shard so
// concurrent requests on different I/O threads rarely contend. Values are immutable
// aggregated answers (canonical events), shared with the requests replaying them.
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "warden/api/chat_request.hpp"
#include "warden/api/stream_event.hpp"

namespace warden::policy::cache {

using Answer = std::vector<api::StreamEvent>;
using Clock = std::chrono::steady_clock;

class ResponseCache {
 public:
  static constexpr size_t kShards = 16;

  // Returns the answer when present and younger than `ttl`; refreshes its LRU position.
  std::shared_ptr<const Answer> get(const std::string& key, std::chrono::seconds ttl, Clock::time_point now = Clock::now());
  // Inserts or replaces; evicts the least recently used entries of that shard beyond
  // ceil(max_entries / kShards) (max_entries is read per call, so a reload applies).
  void put(const std::string& key, std::shared_ptr<const Answer> answer, int64_t max_entries,
           Clock::time_point now = Clock::now());
  size_t size() const;
  void clear();

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Answer> answer;
    Clock::time_point stored_at;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
  };
  Shard& shard_for(const std::string& key);
  Shard shards_[kShards];
};

// The process-wide cache (survives config reloads; entries are keyed by content, not config).
ResponseCache& response_cache();

// The cache key: SHA-256 of the request re-encoded deterministically (canonical fields,
// `stream`/usage options removed so stream and non-stream callers share entries) plus the
// team scope and the alias.
std::string cache_key(const api::ChatRequest& request, std::string_view team, std::string_view alias);

// Merges one answer event into the aggregate kept for the cache (content, reasoning and
// tool-call fragments concatenated; start, finish and usage kept). Returns false for an
// event that makes the answer uncacheable (error, a second choice).
bool aggregate_into(Answer& answer, const api::StreamEvent& ev);

}  // namespace warden::policy::cache
