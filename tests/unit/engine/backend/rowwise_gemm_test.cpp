// The decode GEMM's contract: a row's output is bitwise the same whatever else is in
// the call (number of rows, position, thread split), and close to the exact product.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "warden/engine/backend/cpu/rowwise_gemm.hpp"

using namespace warden::engine::cpu;

TEST_CASE("rowwise gemm: each row is bitwise independent of the other rows", "[backend][gemm]") {
  ThreadPool one(1), many(3);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  INFO("path: " << rowwise_gemm_path());
  for (auto [n, k] : std::vector<std::pair<int32_t, int32_t>>{{64, 64}, {37, 61}, {130, 200}, {5, 3}}) {
    std::vector<float> w(size_t(n) * k), x(size_t(11) * k), bias(static_cast<size_t>(n));
    for (auto& v : w) v = u(rng);
    for (auto& v : x) v = u(rng);
    for (auto& v : bias) v = u(rng);
    Matrix m{w.data(), n, k};
    // Each row alone, single thread: the baseline.
    std::vector<float> alone(size_t(11) * n);
    for (int r = 0; r < 11; ++r) rowwise_linear(x.data() + int64_t(r) * k, 1, m, bias.data(), alone.data() + int64_t(r) * n, one);
    for (int32_t rows = 1; rows <= 11; ++rows)
      for (int start = 0; start + rows <= 11; start += 3) {
        std::vector<float> y(size_t(rows) * n);
        rowwise_linear(x.data() + int64_t(start) * k, rows, m, bias.data(), y.data(), rows % 2 ? many : one);
        REQUIRE(std::memcmp(y.data(), alone.data() + int64_t(start) * n, y.size() * sizeof(float)) == 0);
      }
    // And it is the product: compare with a double-precision dot product.
    double worst = 0;
    for (int r = 0; r < 11; ++r)
      for (int j = 0; j < n; ++j) {
        double d = bias[size_t(j)];
        for (int t = 0; t < k; ++t) d += double(x[size_t(r) * k + t]) * w[size_t(j) * k + t];
        worst = std::max(worst, std::fabs(d - alone[size_t(r) * n + j]));
      }
    CHECK(worst < 1e-4);
  }
}
