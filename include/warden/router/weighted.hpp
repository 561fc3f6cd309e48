#pragma once
// Weighted, sticky choice among an alias's targets: weighted rendezvous hashing of the
// caller's key (key id + user). The same caller keeps the same target while weights stay
// put, and a weight change moves only the share that has to move (canary ramps).
#include <cstdint>
#include <string_view>
#include <vector>

#include "warden/config/routing.hpp"

namespace warden::router {

// Stable across processes and runs (FNV-1a 64 + a final mix), so replicas agree.
uint64_t stable_hash(std::string_view text);

// Index of the target chosen for `sticky_key` among targets with weight > 0; -1 when no
// target has a positive weight.
int pick_weighted(const std::vector<config::ModelTarget>& targets, std::string_view sticky_key);

// All target indexes in try order: the weighted pick first, then the other positive-weight
// targets in config order, then weight-0 targets (fallback-only) in config order.
std::vector<int> target_order(const std::vector<config::ModelTarget>& targets, std::string_view sticky_key);

}  // namespace warden::router
