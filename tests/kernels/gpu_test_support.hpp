#pragma once
// Shared helpers of the [gpu] kernel tests: device buffers that free themselves, host
// bf16 <-> fp32 conversion (bit-exact, the engine's round-to-nearest-even), seeded
// random inputs. Host C++ only (g++ compiles the tests); kernels come in through
// their kernels/*.cuh headers. Any CUDA error fails the current test case.
#include <catch2/catch.hpp>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "warden/engine/weights/dtype.hpp"

namespace warden::kernels::test {

using bf16 = __nv_bfloat16;

// Fails the test case (REQUIRE) when a CUDA runtime call returned an error.
inline void require_cuda(cudaError_t err, const char* what) {
  INFO(what << ": " << cudaGetErrorString(err));
  REQUIRE(err == cudaSuccess);
}
#define WARDEN_CUDA_REQUIRE(expr) ::warden::kernels::test::require_cuda((expr), #expr)

// Waits for the device and fails on any launch or execution error since the last check.
inline void sync_and_check(cudaStream_t stream = nullptr) {
  require_cuda(cudaGetLastError(), "kernel launch");
  require_cuda(stream ? cudaStreamSynchronize(stream) : cudaDeviceSynchronize(), "kernel execution");
}

// Owning device array of n elements of T (move-only).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n_ > 0) WARDEN_CUDA_REQUIRE(cudaMalloc(reinterpret_cast<void**>(&ptr_), n_ * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      if (ptr_) cudaFree(ptr_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

  // Copies host.size() elements (must not exceed size()) to the start of the buffer.
  void upload(const std::vector<T>& host) { upload(host.data(), host.size()); }
  void upload(const T* host, size_t count) {
    REQUIRE(count <= n_);
    if (count > 0) WARDEN_CUDA_REQUIRE(cudaMemcpy(ptr_, host, count * sizeof(T), cudaMemcpyHostToDevice));
  }
  // Synchronous copy of the whole buffer back (waits for all work on the device).
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (n_ > 0) WARDEN_CUDA_REQUIRE(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  // Sets every byte to `byte` (0xff in bf16 is a NaN: shows elements a kernel never wrote).
  void fill_bytes(int byte) {
    if (n_ > 0) WARDEN_CUDA_REQUIRE(cudaMemset(ptr_, byte, n_ * sizeof(T)));
  }
  void zero() { fill_bytes(0); }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

// ---- host bf16 ---------------------------------------------------------------

inline bf16 bf16_from_bits(uint16_t bits) {
  __nv_bfloat16_raw raw;
  raw.x = bits;
  return bf16(raw);
}
inline uint16_t bits_of(bf16 v) { return __nv_bfloat16_raw(v).x; }

inline bf16 to_bf16(float f) { return bf16_from_bits(engine::f32_to_bf16(f)); }
inline float from_bf16(bf16 v) { return engine::bf16_to_f32(bits_of(v)); }

inline std::vector<bf16> to_bf16(const std::vector<float>& v) {
  std::vector<bf16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(v[i]);
  return out;
}
inline std::vector<float> from_bf16(const std::vector<bf16>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = from_bf16(v[i]);
  return out;
}
// Rounds every value to the nearest bf16 (what the device will see after to_bf16).
inline std::vector<float> round_bf16(std::vector<float> v) {
  for (float& f : v) f = engine::bf16_to_f32(engine::f32_to_bf16(f));
  return v;
}
inline float round_bf16(float f) { return engine::bf16_to_f32(engine::f32_to_bf16(f)); }

// ---- random inputs -------------------------------------------------------------

// splitmix64: a fixed, platform-independent stream, so a failing seed reproduces anywhere.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  float uniform(float lo, float hi) { return float(lo + (hi - lo) * uniform()); }
  int32_t below(int32_t n) { return int32_t(next() % uint64_t(n)); }  // [0, n)

 private:
  uint64_t state_;
};

// Uniform in [lo, hi); already rounded to bf16 when `bf16_exact`, so the fp32 CPU
// reference and the bf16 device input hold the same numbers.
inline void fill_random(std::vector<float>& v, uint64_t seed, float lo = -1.0f, float hi = 1.0f,
                        bool bf16_exact = true) {
  TestRng rng(seed);
  for (float& f : v) {
    f = rng.uniform(lo, hi);
    if (bf16_exact) f = round_bf16(f);
  }
}
inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f,
                                        bool bf16_exact = true) {
  std::vector<float> v(n);
  fill_random(v, seed, lo, hi, bf16_exact);
  return v;
}

// ---- comparisons ---------------------------------------------------------------

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // a NaN makes the result NaN, so a bound check fails
  }
  return m;
}

// Largest |got - want| / (atol + rtol·|want|); <= 1 means within bounds everywhere.
inline float max_scaled_error(const std::vector<float>& got, const std::vector<float>& want, float atol,
                              float rtol) {
  REQUIRE(got.size() == want.size());
  float m = 0.0f;
  for (size_t i = 0; i < got.size(); ++i) {
    const float e = std::fabs(got[i] - want[i]) / (atol + rtol * std::fabs(want[i]));
    if (!(e <= m)) m = e;
  }
  return m;
}

// bf16's unit roundoff (8 significant bits): one rounding to nearest is off by at most
// 2^-8 of the value (half an ulp, at the bottom of a binade).
inline constexpr float kBf16Eps = 1.0f / 256.0f;

}  // namespace warden::kernels::test
