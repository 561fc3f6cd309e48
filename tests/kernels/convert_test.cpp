// The element-wise helpers between GEMMs. f32_to_bf16 / bf16_to_f32 must equal the
// engine's own bit-exact host conversions (round-to-nearest-even, as torch);
// add_inplace must equal the CPU op's fp32 add rounded to bf16 (both inputs are bf16,
// so the fp32 sum is rounded once: bit-exact). scale_rows_by_sigmoid follows HF
// Qwen2-MoE (sigmoid rounded to bf16, then the bf16 product): bit-exact against that
// order on the host for ≥ 99% of elements (expf vs std::exp may flip a rounding), and
// within 2 roundings of the exact product everywhere (rtol = 2^-7 + 1e-5).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

#include "kernels/convert.cuh"
#include "kernels/gpu_test_support.hpp"
#include "warden/engine/backend/cpu/ops.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;

TEST_CASE("f32_to_bf16 rounds to nearest even like the engine's host conversion", "[gpu][convert]") {
  std::vector<float> in = random_floats(1'500'001, 1, -1e4f, 1e4f, /*bf16_exact=*/false);  // > one grid of blocks
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::lowest(), std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::min(), 1.0f + 1.0f / 256.0f,  // halfway: ties to even (1)
                            1.0f + 3.0f / 256.0f};                                    // halfway: ties to even up
  for (size_t i = 0; i < std::size(specials); ++i) in[i] = specials[i];
  DeviceBuffer<float> din(in);
  DeviceBuffer<bf16> dout(in.size());
  wk::f32_to_bf16(din.get(), int64_t(in.size()), dout.get(), nullptr);
  sync_and_check();
  const std::vector<bf16> got = dout.download();
  size_t bad = 0;
  for (size_t i = 0; i < in.size(); ++i) bad += bits_of(got[i]) != warden::engine::f32_to_bf16(in[i]);
  CHECK(bad == 0u);

  // NaN stays NaN (payload bits may differ between the two conversions).
  DeviceBuffer<float> dnan(std::vector<float>{std::numeric_limits<float>::quiet_NaN()});
  DeviceBuffer<bf16> dnan_out(1);
  wk::f32_to_bf16(dnan.get(), 1, dnan_out.get(), nullptr);
  sync_and_check();
  CHECK(std::isnan(from_bf16(dnan_out.download()[0])));
}

TEST_CASE("bf16_to_f32 is exact for every bf16 bit pattern", "[gpu][convert]") {
  std::vector<bf16> in(65536);
  for (uint32_t b = 0; b < 65536; ++b) in[b] = bf16_from_bits(uint16_t(b));
  DeviceBuffer<bf16> din(in);
  DeviceBuffer<float> dout(in.size());
  wk::bf16_to_f32(din.get(), int64_t(in.size()), dout.get(), nullptr);
  sync_and_check();
  const std::vector<float> got = dout.download();
  size_t bad = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    uint32_t got_bits;
    std::memcpy(&got_bits, &got[b], 4);
    bad += got_bits != (b << 16);
  }
  CHECK(bad == 0u);
}

TEST_CASE("add_inplace equals the CPU op's fp32 add rounded to bf16", "[gpu][convert]") {
  for (const int64_t n : {int64_t(1), int64_t(1001), int64_t(1'300'007)}) {
    DYNAMIC_SECTION("n " << n) {
      // Operands of different magnitudes so the sum rounds.
      const std::vector<float> y = random_floats(size_t(n), 10 + n, -100.0f, 100.0f);
      const std::vector<float> x = random_floats(size_t(n), 20 + n, -1.0f, 1.0f);
      DeviceBuffer<bf16> dy(to_bf16(y)), dx(to_bf16(x));
      wk::add_inplace(dy.get(), dx.get(), n, nullptr);
      sync_and_check();
      std::vector<float> want = y;
      warden::engine::cpu::add_inplace(want.data(), x.data(), n);
      CHECK(from_bf16(dy.download()) == round_bf16(want));
      CHECK(from_bf16(dx.download()) == x);  // x is read only
    }
  }
  SECTION("y and x the same buffer (doubling)") {
    const std::vector<float> y = random_floats(777, 5, -3.0f, 3.0f);
    DeviceBuffer<bf16> dy(to_bf16(y));
    wk::add_inplace(dy.get(), dy.get(), int64_t(y.size()), nullptr);
    sync_and_check();
    std::vector<float> want = y;
    warden::engine::cpu::add_inplace(want.data(), y.data(), int64_t(y.size()));
    CHECK(from_bf16(dy.download()) == round_bf16(want));
  }
}

TEST_CASE("scale_rows_by_sigmoid scales each row by its gate (HF Qwen2-MoE order)", "[gpu][convert]") {
  const std::pair<int32_t, int32_t> shapes[] = {{1, 896}, {13, 2048}, {7, 33}, {300, 8}};
  uint64_t seed = 40;
  for (const auto& [rows, dim] : shapes) {
    DYNAMIC_SECTION("rows " << rows << " dim " << dim) {
      const size_t n = size_t(rows) * dim;
      const std::vector<float> y = random_floats(n, seed++, -4.0f, 4.0f);
      const std::vector<float> gate = random_floats(size_t(rows), seed++, -8.0f, 8.0f);
      DeviceBuffer<bf16> dy(to_bf16(y)), dg(to_bf16(gate));
      wk::scale_rows_by_sigmoid(dy.get(), dg.get(), rows, dim, nullptr);
      sync_and_check();
      const std::vector<float> got = from_bf16(dy.download());
      std::vector<float> exact_product(n);
      size_t same = 0;
      for (int32_t r = 0; r < rows; ++r) {
        const double s = 1.0 / (1.0 + std::exp(-double(gate[size_t(r)])));
        // The device's fp32 sigmoid may sit on the other side of a bf16 rounding
        // boundary than the exact one; accept the gate rounded either way then.
        const float s_lo = round_bf16(float(s * (1.0 - 1e-6))), s_hi = round_bf16(float(s * (1.0 + 1e-6)));
        for (int32_t c = 0; c < dim; ++c) {
          const size_t i = size_t(r) * dim + c;
          exact_product[i] = float(double(y[i]) * s);
          same += got[i] == round_bf16(y[i] * s_lo) || got[i] == round_bf16(y[i] * s_hi);
        }
      }
      CHECK(max_scaled_error(got, exact_product, 1e-7f, 2.0f * kBf16Eps + 1e-5f) <= 1.0f);
      CHECK(double(same) / double(n) >= 0.99);
    }
  }
}
