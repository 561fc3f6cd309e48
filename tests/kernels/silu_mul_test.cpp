// silu_mul against the CPU backend's fp32 silu_mul on bf16-exact gate/up halves.
//
// Error bound: one rounding of the fp32 product to bf16 (≤ 2^-8 relative, bf16's unit
// roundoff) plus expf vs std::exp and division rounding (a few fp32 ulps, ~1e-6
// relative): rtol = 2^-8 + 1e-5, atol = 1e-7 (silu of a very negative gate is ~0).
// ≥ 99% of the outputs must also equal round_bf16(cpu) exactly: one rounding, as the
// header states.
#include <cstdint>
#include <vector>

#include "kernels/gpu_test_support.hpp"
#include "kernels/silu_mul.cuh"
#include "warden/engine/backend/cpu/ops.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;

TEST_CASE("silu_mul matches the CPU op over awkward shapes", "[gpu][silu_mul]") {
  const std::pair<int32_t, int32_t> shapes[] = {{1, 8},    {3, 4864}, {17, 1000}, {5, 13},
                                                {2, 18944}, {64, 96}, {1, 1},     {4097, 16}};
  uint64_t seed = 1;
  for (const auto& [rows, width] : shapes) {
    DYNAMIC_SECTION("rows " << rows << " width " << width) {
      const size_t n = size_t(rows) * width;
      // Gates over a wide range so silu's both tails (≈ 0 and ≈ identity) are exercised.
      const std::vector<float> gate_up = random_floats(2 * n, seed++, -12.0f, 12.0f);
      DeviceBuffer<bf16> din(to_bf16(gate_up)), dout(n);
      dout.fill_bytes(0xff);
      wk::silu_mul(din.get(), rows, width, dout.get(), nullptr);
      sync_and_check();
      const std::vector<float> got = from_bf16(dout.download());

      std::vector<float> want(n);
      for (int32_t r = 0; r < rows; ++r) {
        const float* row = gate_up.data() + size_t(r) * 2 * width;
        warden::engine::cpu::silu_mul(row, row + width, width, want.data() + size_t(r) * width);
      }
      CHECK(max_scaled_error(got, want, 1e-7f, kBf16Eps + 1e-5f) <= 1.0f);
      size_t exact = 0;
      for (size_t i = 0; i < n; ++i) exact += got[i] == round_bf16(want[i]);
      CHECK(double(exact) / double(n) >= 0.99);
    }
  }
}
