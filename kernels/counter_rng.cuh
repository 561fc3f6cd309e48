#pragma once
// Counter-based random numbers for sampling: Philox4x32-10 (Salmon et al., SC'11,
// "Parallel random numbers: as easy as 1, 2, 3"), written out here so the host and
// the device compute the very same bits. A draw is a pure function of (seed, step):
// no state to carry between decode steps, and a row's number does not depend on which
// other rows share the batch. Host code (g++) includes this header too, so a CPU test
// can reproduce the uniform and the token the GPU sampler picks.
#include <cstdint>

#if defined(__CUDACC__)
#define WARDEN_HD __host__ __device__ __forceinline__
#else
#define WARDEN_HD inline
#endif

namespace warden::kernels {

struct Philox4x32 {
  uint32_t v[4];
};

// Philox4x32 with 10 rounds on counter `c` under key (k0, k1).
WARDEN_HD Philox4x32 philox4x32_10(Philox4x32 c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = uint64_t(kM0) * c.v[0];
    const uint64_t p1 = uint64_t(kM1) * c.v[2];
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c = Philox4x32{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
  }
  return c;
}

// The 64 random bits of one sampling draw: key = seed, counter = (step, 0).
WARDEN_HD uint64_t sample_bits(uint64_t seed, uint64_t step) {
  const Philox4x32 r = philox4x32_10(Philox4x32{{uint32_t(step), uint32_t(step >> 32), 0u, 0u}}, uint32_t(seed),
                                     uint32_t(seed >> 32));
  return (uint64_t(r.v[1]) << 32) | r.v[0];
}

// The draw as a uniform number in [0, 1) with 53 bits (for tests and documentation;
// the sampler itself uses the exact integer form below).
WARDEN_HD double sample_uniform(uint64_t seed, uint64_t step) {
  return double(sample_bits(seed, step) >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

// floor(bits / 2^64 · total): the draw scaled onto [0, total) exactly, in integers, so
// host and device agree bit for bit (total > 0).
WARDEN_HD uint64_t scale_draw(uint64_t bits, uint64_t total) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(bits, total);
#else
  return uint64_t((static_cast<unsigned __int128>(bits) * total) >> 64);
#endif
}

}  // namespace warden::kernels

#undef WARDEN_HD
