// rms_norm / add_rms_norm against the CPU backend's fp32 rms_norm on bf16-exact inputs.
//
// Error bound: the kernel rounds twice, as HF does (bf16(x·inv), then bf16(weight·y)),
// each off by at most bf16's unit roundoff 2^-8 relative, so |gpu − cpu| ≤
// (2^-7 + 2^-16)·|cpu| plus the fp32-vs-double difference of the sum of squares (~1e-6
// relative); the tests allow rtol = 2^-7 + 1e-5, atol = 1e-6. Beyond the bound, ≥ 99% of the outputs
// must equal HF's rounding order computed on the host bit for bit (a kernel rounding
// once, or in the other order, differs in far more elements than that).
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/gpu_test_support.hpp"
#include "kernels/rms_norm.cuh"
#include "warden/engine/backend/cpu/ops.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;

namespace {

constexpr float kEps = 1e-6f;
constexpr float kRtol = 2.0f * kBf16Eps + 1e-5f;
constexpr float kAtol = 1e-6f;

// HF order from the reference's inverse rms: bf16(w · bf16(x · inv)).
float hf_order(float x, float inv, float w) { return round_bf16(w * round_bf16(x * inv)); }

float inv_rms(const float* x, int32_t dim) {
  double ss = 0;
  for (int32_t i = 0; i < dim; ++i) ss += double(x[i]) * x[i];
  return float(1.0 / std::sqrt(ss / dim + double(kEps)));
}

struct Compared {
  float scaled_error = 0;  // max |gpu − cpu| / (atol + rtol·|cpu|)
  double exact_fraction = 0;
};

// gpu: rows of `dim` at `stride`; x: the bf16-exact input rows (same stride).
Compared compare_rows(const std::vector<float>& gpu, const std::vector<float>& x, const std::vector<float>& weight,
                      int32_t rows, int32_t dim, int64_t stride, int64_t out_stride) {
  std::vector<float> want, got;
  size_t exact = 0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * stride;
    std::vector<float> ref(static_cast<size_t>(dim));
    warden::engine::cpu::rms_norm(xr, weight.data(), kEps, dim, ref.data());
    const float inv = inv_rms(xr, dim);
    for (int32_t i = 0; i < dim; ++i) {
      const float g = gpu[size_t(r * out_stride + i)];
      want.push_back(ref[size_t(i)]);
      got.push_back(g);
      exact += g == hf_order(xr[i], inv, weight[size_t(i)]);
    }
  }
  return {max_scaled_error(got, want, kAtol, kRtol), double(exact) / double(want.size())};
}

struct Shape {
  int32_t rows, dim;
  int64_t stride;   // input row stride (elements)
  int32_t offset;   // first element of the normed slice within a row (MLA: a slice)
};

}  // namespace

TEST_CASE("rms_norm matches the CPU op over awkward shapes", "[gpu][rms_norm]") {
  const Shape shapes[] = {
      {1, 8, 8, 0},        {3, 4096, 4096, 0}, {7, 896, 896, 0},   {5, 127, 127, 0},  {33, 1000, 1000, 0},
      {2, 5120, 5120, 0},  {1, 7168, 7168, 0}, {9, 512, 576, 0},   // MLA latent: 512 of a 576-wide row
      {4, 64, 192, 128},   // a slice at an aligned offset (vector path)
      {6, 40, 93, 3},      // odd stride and a misaligned start (scalar path)
      {513, 24, 24, 0},    // many rows, one warp each
  };
  uint64_t seed = 1;
  for (const Shape& s : shapes) {
    DYNAMIC_SECTION("rows " << s.rows << " dim " << s.dim << " stride " << s.stride << " offset " << s.offset) {
      const std::vector<float> x = random_floats(size_t(s.rows * s.stride), seed++, -2.0f, 2.0f);
      const std::vector<float> w = random_floats(size_t(s.dim), seed++, 0.5f, 1.5f);
      DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w));
      const int64_t out_stride = s.dim;
      DeviceBuffer<bf16> dout(size_t(s.rows * out_stride));
      dout.fill_bytes(0xff);
      wk::rms_norm(dx.get() + s.offset, s.stride, dw.get(), kEps, s.rows, s.dim, dout.get(), out_stride, nullptr);
      sync_and_check();
      std::vector<float> shifted(x.begin() + s.offset, x.end());
      const Compared c = compare_rows(from_bf16(dout.download()), shifted, w, s.rows, s.dim, s.stride, out_stride);
      CHECK(c.scaled_error <= 1.0f);
      CHECK(c.exact_fraction >= 0.99);
      // The input is read only.
      CHECK(from_bf16(dx.download()) == x);
    }
  }
}

TEST_CASE("rms_norm in place (out aliases x) over strided rows", "[gpu][rms_norm]") {
  for (const int32_t dim : {128, 131}) {
    const int32_t rows = 11;
    const int64_t stride = dim + 64;  // the rest of each row must stay untouched
    const std::vector<float> x = random_floats(size_t(rows * stride), 77 + dim, -3.0f, 3.0f);
    const std::vector<float> w = random_floats(size_t(dim), 78 + dim, -1.0f, 1.0f);
    DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w));
    wk::rms_norm(dx.get(), stride, dw.get(), kEps, rows, dim, dx.get(), stride, nullptr);
    sync_and_check();
    const std::vector<float> got = from_bf16(dx.download());
    const Compared c = compare_rows(got, x, w, rows, dim, stride, stride);
    CHECK(c.scaled_error <= 1.0f);
    CHECK(c.exact_fraction >= 0.99);
    for (int32_t r = 0; r < rows; ++r)
      for (int64_t i = dim; i < stride; ++i) REQUIRE(got[size_t(r * stride + i)] == x[size_t(r * stride + i)]);
  }
}

TEST_CASE("add_rms_norm: bf16 residual update, then the norm of the updated residual", "[gpu][rms_norm]") {
  const std::pair<int32_t, int32_t> shapes[] = {{1, 896}, {7, 4096}, {5, 1000}, {3, 77}, {130, 64}, {2, 7168}};
  uint64_t seed = 100;
  for (const auto& [rows, dim] : shapes) {
    DYNAMIC_SECTION("rows " << rows << " dim " << dim) {
      const size_t n = size_t(rows) * dim;
      // Residuals larger than the deltas, as in a real stream, so the bf16 add rounds.
      const std::vector<float> res = random_floats(n, seed++, -8.0f, 8.0f);
      const std::vector<float> delta = random_floats(n, seed++, -0.5f, 0.5f);
      const std::vector<float> w = random_floats(size_t(dim), seed++, 0.5f, 1.5f);
      DeviceBuffer<bf16> dres(to_bf16(res)), ddelta(to_bf16(delta)), dw(to_bf16(w)), dout(n);
      wk::add_rms_norm(ddelta.get(), dres.get(), dw.get(), kEps, rows, dim, dout.get(), nullptr);
      sync_and_check();

      // Residual: the CPU op's fp32 add, rounded to bf16 — must be bit-exact.
      std::vector<float> sum = res;
      warden::engine::cpu::add_inplace(sum.data(), delta.data(), int64_t(n));
      sum = round_bf16(sum);
      CHECK(from_bf16(dres.download()) == sum);

      const Compared c = compare_rows(from_bf16(dout.download()), sum, w, rows, dim, dim, dim);
      CHECK(c.scaled_error <= 1.0f);
      CHECK(c.exact_fraction >= 0.99);
    }
  }
}
