// Weighted rendezvous (highest random weight) hashing: each target scores
// -ln(u) / weight with u = hash(key, target) in (0,1]; the lowest score wins. Its
// probability is weight / Σweights and, unlike a modulo split, unchanged targets keep
// their callers when another target's weight changes.
#include "warden/router/weighted.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace warden::router {

uint64_t stable_hash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // splitmix64 finaliser: FNV's low bits are weak for short keys.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

int pick_weighted(const std::vector<config::ModelTarget>& targets, std::string_view sticky_key) {
  int best = -1;
  double best_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    if (t.weight <= 0) continue;
    std::string id;
    id.reserve(sticky_key.size() + t.provider.size() + t.model.size() + 2);
    id.append(sticky_key).append("\x1f").append(t.provider).append("/").append(t.model);
    // 53 high bits → u in (0, 1].
    double u = (double((stable_hash(id) >> 11)) + 1.0) / 9007199254740992.0;
    double score = -std::log(u) / double(t.weight);
    if (score < best_score) {
      best_score = score;
      best = int(i);
    }
  }
  return best;
}

std::vector<int> target_order(const std::vector<config::ModelTarget>& targets, std::string_view sticky_key) {
  std::vector<int> order;
  order.reserve(targets.size());
  int first = pick_weighted(targets, sticky_key);
  if (first >= 0) order.push_back(first);
  for (size_t i = 0; i < targets.size(); ++i)
    if (int(i) != first && targets[i].weight > 0) order.push_back(int(i));
  for (size_t i = 0; i < targets.size(); ++i)
    if (targets[i].weight <= 0) order.push_back(int(i));
  return order;
}

}  // namespace warden::router
