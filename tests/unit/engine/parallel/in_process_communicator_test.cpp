// Simulated ranks on real threads: all_reduce_sum adds in rank order 0..N-1 (bitwise the
// sequential left fold), all_gather lines buffers up by rank, and a failed rank aborts
// the group instead of leaving the others blocked.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "warden/engine/parallel/in_process_communicator.hpp"

using namespace warden::engine::parallel;

namespace {

// Runs fn(rank) on one thread per rank; returns each rank's exception (or null).
template <class Fn>
std::vector<std::exception_ptr> on_ranks(int32_t world, Fn fn) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  std::vector<std::thread> ts;
  for (int32_t r = 0; r < world; ++r)
    ts.emplace_back([&, r] {
      try {
        fn(r);
      } catch (...) {
        errors[size_t(r)] = std::current_exception();
      }
    });
  for (auto& t : ts) t.join();
  return errors;
}

// Values whose float sum depends on the order they are added in.
float value(int32_t rank, size_t i) { return std::ldexp(1.0f + float(i % 7) / 7.0f, (rank * 11 + int(i)) % 40 - 20); }

}  // namespace

TEST_CASE("in-process communicator: all_reduce_sum is the rank-order fold on every rank", "[parallel]") {
  for (int32_t world : {1, 2, 3, 4}) {
    DYNAMIC_SECTION("world " << world) {
      InProcessGroup group(world);
      const size_t n = 1001;  // not a multiple of the world: uneven slices
      std::vector<std::vector<float>> data(static_cast<size_t>(world), std::vector<float>(n));
      for (int32_t r = 0; r < world; ++r)
        for (size_t i = 0; i < n; ++i) data[size_t(r)][i] = value(r, i);
      std::vector<float> expected(n);
      for (size_t i = 0; i < n; ++i) {
        float s = value(0, i);
        for (int32_t r = 1; r < world; ++r) s += value(r, i);
        expected[i] = s;
      }
      std::vector<int> mismatches(static_cast<size_t>(world), 0);
      const auto errors = on_ranks(world, [&](int32_t r) {
        Communicator& c = group.rank(r);
        if (c.rank() != r || c.world() != world) throw std::logic_error("wrong rank or world");
        for (int round = 0; round < 3; ++round) {  // repeated collectives reuse the group safely
          std::vector<float> buf = data[size_t(r)];
          c.all_reduce_sum(buf.data(), n);
          if (std::memcmp(buf.data(), expected.data(), n * sizeof(float)) != 0) ++mismatches[size_t(r)];
        }
      });
      for (auto& e : errors) CHECK_FALSE(e);
      for (int m : mismatches) CHECK(m == 0);
    }
  }
}

TEST_CASE("in-process communicator: all_gather places rank r's buffer at r * n", "[parallel]") {
  const int32_t world = 3;
  InProcessGroup group(world);
  const size_t n = 5;
  std::vector<std::vector<float>> out(world, std::vector<float>(n * world, -1.0f));
  const auto errors = on_ranks(world, [&](int32_t r) {
    std::vector<float> in(n);
    for (size_t i = 0; i < n; ++i) in[i] = float(r * 100 + int(i));
    group.rank(r).all_gather(in.data(), n, out[size_t(r)].data());
  });
  for (auto& e : errors) CHECK_FALSE(e);
  for (int32_t r = 0; r < world; ++r)
    for (int32_t k = 0; k < world; ++k)
      for (size_t i = 0; i < n; ++i) CHECK(out[size_t(r)][size_t(k) * n + i] == float(k * 100 + int(i)));
}

TEST_CASE("in-process communicator: a failed rank aborts the others; reset makes the group usable", "[parallel]") {
  InProcessGroup group(3);
  const auto errors = on_ranks(3, [&](int32_t r) {
    std::vector<float> buf(8, 1.0f);
    if (r == 1) {
      group.abort();  // rank 1 failed before its collective
      throw std::runtime_error("rank 1 failed");
    }
    group.rank(r).all_reduce_sum(buf.data(), buf.size());
  });
  REQUIRE(errors[0]);
  REQUIRE(errors[2]);
  CHECK_THROWS_WITH(std::rethrow_exception(errors[0]), Catch::Contains("aborted"));

  group.reset();
  std::vector<float> sums(3);
  const auto again = on_ranks(3, [&](int32_t r) {
    float v = float(r + 1);
    group.rank(r).all_reduce_sum(&v, 1);
    sums[size_t(r)] = v;
  });
  for (auto& e : again) CHECK_FALSE(e);
  CHECK(sums == std::vector<float>{6.0f, 6.0f, 6.0f});

  // Mismatched counts are a caller bug: every rank hears of it.
  InProcessGroup two(2);
  const auto bad = on_ranks(2, [&](int32_t r) {
    std::vector<float> buf(size_t(4 + r));
    two.rank(r).all_reduce_sum(buf.data(), buf.size());
  });
  CHECK(bad[0]);
  CHECK(bad[1]);
}
