#include "warden/policy/cache/response_cache.hpp"

#include <functional>

#include "warden/api/openai/chat_encode.hpp"
#include "warden/policy/crypto.hpp"

namespace warden::policy::cache {

ResponseCache::Shard& ResponseCache::shard_for(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::shared_ptr<const Answer> ResponseCache::get(const std::string& key, std::chrono::seconds ttl,
                                                 Clock::time_point now) {
  auto& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(key);
  if (it == s.index.end()) return nullptr;
  if (now - it->second->stored_at >= ttl) {  // expired: drop it now rather than wait for LRU
    s.lru.erase(it->second);
    s.index.erase(it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->answer;
}

void ResponseCache::put(const std::string& key, std::shared_ptr<const Answer> answer, int64_t max_entries,
                        Clock::time_point now) {
  const size_t per_shard = std::max<size_t>(1, (static_cast<size_t>(std::max<int64_t>(max_entries, 1)) + kShards - 1) / kShards);
  auto& s = shard_for(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.index.find(key); it != s.index.end()) {
    it->second->answer = std::move(answer);
    it->second->stored_at = now;
    s.lru.splice(s.lru.begin(), s.lru, it->second);
  } else {
    s.lru.push_front(Entry{key, std::move(answer), now});
    s.index.emplace(key, s.lru.begin());
  }
  while (s.lru.size() > per_shard) {
    s.index.erase(s.lru.back().key);
    s.lru.pop_back();
  }
}

size_t ResponseCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.lru.size();
  }
  return n;
}

void ResponseCache::clear() {
  for (auto& s : shards_) {
    std::lock_guard lock(s.mu);
    s.lru.clear();
    s.index.clear();
  }
}

ResponseCache& response_cache() {
  static ResponseCache cache;
  return cache;
}

std::string cache_key(const api::ChatRequest& request, std::string_view team, std::string_view alias) {
  // The OpenAI encoder writes fields in a fixed order and numbers canonically, so equal
  // requests give equal bytes. Transport options do not change the answer: drop them.
  api::ChatRequest canonical = request;
  canonical.stream = false;
  canonical.include_usage = false;
  canonical.upstream_headers.clear();
  canonical.model = std::string(alias);
  api::openai::UpstreamOptions opts;
  opts.force_include_usage = false;
  std::string text = api::openai::encode_chat_request(canonical, opts);
  text += '\n';
  text += team;  // scope: one team never sees another team's cached answers
  text += '\n';
  text += alias;
  return sha256_hex(text);
}

bool aggregate_into(Answer& answer, const api::StreamEvent& ev) {
  using T = api::StreamEvent::Type;
  if (ev.type == T::Error) return false;
  if (ev.type == T::KeepAlive) return true;
  if (ev.choice != 0) return false;  // n > 1: not cached
  api::StreamEvent copy;
  copy.type = ev.type;
  switch (ev.type) {
    case T::Start:
      copy.model = ev.model;  // id left empty: each replay gets a fresh completion id
      answer.push_back(std::move(copy));
      return true;
    case T::Content:
    case T::Reasoning:
      for (auto& e : answer)
        if (e.type == ev.type) {
          e.text += ev.text;
          if (!ev.signature.empty()) e.signature = ev.signature;
          return true;
        }
      copy.text = ev.text;
      copy.signature = ev.signature;
      answer.push_back(std::move(copy));
      return true;
    case T::ToolCall:
      for (auto& e : answer)
        if (e.type == T::ToolCall && e.tool_call.index == ev.tool_call.index) {
          if (!ev.tool_call.id.empty()) e.tool_call.id = ev.tool_call.id;
          if (!ev.tool_call.name.empty()) e.tool_call.name = ev.tool_call.name;
          e.tool_call.arguments += ev.tool_call.arguments;
          return true;
        }
      copy.tool_call = ev.tool_call;
      answer.push_back(std::move(copy));
      return true;
    case T::Finish:
      copy.finish_reason = ev.finish_reason;
      answer.push_back(std::move(copy));
      return true;
    case T::Usage:
      copy.usage = ev.usage;
      answer.push_back(std::move(copy));
      return true;
    default:
      return true;
  }
}

}  // namespace warden::policy::cache
