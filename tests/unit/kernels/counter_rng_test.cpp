// The sampler's counter-based generator on the host: the same header the GPU sampler
// compiles, checked against Random123's published Philox4x32-10 known answers, so a
// CPU test can reproduce any row's uniform (and hence its token) from (seed, step).
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <set>

// Header-only and CUDA-free on the host; reached through the tests/ include path so
// the test also builds where nvcc (and the warden_kernels target) is absent.
#include "../kernels/counter_rng.cuh"

using warden::kernels::Philox4x32;
using warden::kernels::philox4x32_10;
using warden::kernels::sample_bits;
using warden::kernels::sample_uniform;
using warden::kernels::scale_draw;

namespace {
std::array<uint32_t, 4> run(std::array<uint32_t, 4> ctr, uint32_t k0, uint32_t k1) {
  const Philox4x32 r = philox4x32_10(Philox4x32{{ctr[0], ctr[1], ctr[2], ctr[3]}}, k0, k1);
  return {r.v[0], r.v[1], r.v[2], r.v[3]};
}
}  // namespace

TEST_CASE("philox4x32-10 matches Random123's known-answer vectors", "[kernels][rng]") {
  CHECK(run({0, 0, 0, 0}, 0, 0) == std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(run({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffu, 0xffffffffu) ==
        std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(run({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u) ==
        std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("a sampling draw is keyed by seed (key) and step (counter)", "[kernels][rng]") {
  // seed → key words (low, high), step → counter words 0 and 1; bits = out[1]:out[0].
  const uint64_t seed = 0x299f31d0a4093822ull, step = 0x85a308d3243f6a88ull;
  const auto r = run({0x243f6a88u, 0x85a308d3u, 0, 0}, 0xa4093822u, 0x299f31d0u);
  CHECK(sample_bits(seed, step) == ((uint64_t(r[1]) << 32) | r[0]));
  CHECK(sample_bits(0, 0) == 0xe169c58d6627e8d5ull);  // the all-zero known answer

  // Pure function of (seed, step): repeatable, and distinct across steps and seeds.
  CHECK(sample_bits(42, 7) == sample_bits(42, 7));
  std::set<uint64_t> seen;
  for (uint64_t s = 0; s < 64; ++s)
    for (uint64_t t = 0; t < 64; ++t) seen.insert(sample_bits(s, t));
  CHECK(seen.size() == 64u * 64u);
}

TEST_CASE("sample_uniform covers [0, 1) evenly", "[kernels][rng]") {
  constexpr int kDraws = 200000, kBins = 20;
  std::array<int, kBins> bins{};
  double lo = 1.0, hi = 0.0, sum = 0.0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = sample_uniform(12345, uint64_t(i));
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    lo = u < lo ? u : lo;
    hi = u > hi ? u : hi;
    sum += u;
    ++bins[size_t(u * kBins)];
  }
  CHECK(sum / kDraws == Approx(0.5).margin(0.005));
  CHECK(lo < 1e-4);
  CHECK(hi > 1.0 - 1e-4);
  // Each bin expects 10000 ± 98 (binomial sd); 5 sd is a loose, deterministic bound.
  for (int b = 0; b < kBins; ++b) CHECK(std::abs(bins[size_t(b)] - kDraws / kBins) < 500);
}

TEST_CASE("scale_draw is floor(bits / 2^64 * total) exactly", "[kernels][rng]") {
  CHECK(scale_draw(0, 12345) == 0u);
  CHECK(scale_draw(~0ull, 1) == 0u);
  CHECK(scale_draw(~0ull, 12345) == 12344u);          // never reaches total
  CHECK(scale_draw(1ull << 63, 10) == 5u);            // one half
  CHECK(scale_draw(3ull << 62, 1ull << 40) == 3ull << 38);  // three quarters of 2^40
  CHECK(scale_draw(~0ull, ~0ull) == ~0ull - 1);
  // Against long multiplication in 32-bit halves for assorted values.
  for (uint64_t i = 1; i < 2000; ++i) {
    const uint64_t bits = sample_bits(9, i), total = sample_bits(10, i) >> (i % 64);
    const uint64_t a1 = bits >> 32, a0 = bits & 0xffffffffu, b1 = total >> 32, b0 = total & 0xffffffffu;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    const uint64_t high = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    REQUIRE(scale_draw(bits, total) == high);
  }
}
