#include "warden/common/ids.hpp"

#include <atomic>
#include <cstdint>
#include <random>

namespace warden {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = gen();
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = hex[(v >> (i * 4)) & 15];
  }
  return out;
}

std::string new_alnum_id(std::string_view prefix, int length) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id(prefix);
  // The counter keeps ids distinct even if two threads' generators ever collide.
  uint64_t r = rng() ^ (counter.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ull);
  for (int i = 0; i < length; ++i) {
    id.push_back(kAlnum[r % 62]);
    r /= 62;
    if (r == 0) r = rng();
  }
  return id;
}

}  // namespace warden
