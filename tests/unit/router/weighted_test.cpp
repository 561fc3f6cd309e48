#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "warden/router/weighted.hpp"

using warden::config::ModelTarget;
using warden::router::pick_weighted;
using warden::router::target_order;

namespace {
std::vector<ModelTarget> targets(std::initializer_list<std::pair<const char*, int64_t>> list) {
  std::vector<ModelTarget> out;
  for (auto [name, w] : list) {
    ModelTarget t;
    t.provider = name;
    t.model = std::string(name) + "-model";
    t.weight = w;
    out.push_back(t);
  }
  return out;
}
std::string caller(int i) { return "key-" + std::to_string(i) + "\x1euser"; }
}  // namespace

TEST_CASE("weighted split follows the weights", "[router][weighted]") {
  auto ts = targets({{"a", 90}, {"b", 10}});
  int counts[2] = {0, 0};
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[pick_weighted(ts, caller(i))];
  // 10% ± 1.5% (binomial sd ≈ 0.2%)
  CHECK(counts[1] > n * 0.085);
  CHECK(counts[1] < n * 0.115);
}

TEST_CASE("three-way split with a zero weight never picks the zero", "[router][weighted]") {
  auto ts = targets({{"a", 1}, {"b", 0}, {"c", 1}});
  std::map<int, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[pick_weighted(ts, caller(i))];
  CHECK(counts[1] == 0);
  CHECK(counts[0] > 1700);
  CHECK(counts[2] > 1700);
  auto order = target_order(ts, "someone");
  REQUIRE(order.size() == 3);
  CHECK(order.back() == 1);  // weight 0 = fallback-only, tried last
}

TEST_CASE("the same caller always gets the same target", "[router][weighted]") {
  auto ts = targets({{"a", 50}, {"b", 50}});
  for (int i = 0; i < 200; ++i) {
    int first = pick_weighted(ts, caller(i));
    for (int r = 0; r < 5; ++r) CHECK(pick_weighted(ts, caller(i)) == first);
  }
}

TEST_CASE("a canary ramp moves only the callers it must", "[router][weighted]") {
  auto before = targets({{"stable", 90}, {"canary", 10}});
  auto after = targets({{"stable", 80}, {"canary", 20}});
  const int n = 20000;
  int moved = 0, left_canary = 0;
  for (int i = 0; i < n; ++i) {
    int b = pick_weighted(before, caller(i));
    int a = pick_weighted(after, caller(i));
    if (a != b) ++moved;
    if (b == 1 && a == 0) ++left_canary;
  }
  CHECK(left_canary == 0);      // canary users stay on the canary as it grows
  CHECK(moved > n * 0.085);     // ~10% of callers move (stable → canary)
  CHECK(moved < n * 0.125);
}

TEST_CASE("no positive weight → no pick, order keeps config order", "[router][weighted]") {
  auto ts = targets({{"a", 0}, {"b", 0}});
  CHECK(pick_weighted(ts, "x") == -1);
  CHECK(target_order(ts, "x") == std::vector<int>{0, 1});
}
