#pragma once
// Element types found in safetensors files and their conversions to/from fp32.
// Conversions are exact bit manipulations (no <stdfloat>), so every build agrees.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace warden::engine {

// F8_E4M3 is the OCP "e4m3fn" byte of DeepSeek-V3/R1 checkpoints (no infinities,
// 0x7f/0xff are NaN, max 448), used with per-block `weight_scale_inv` tensors.
enum class DType { F32, F16, BF16, I64, I32, I8, U8, Bool, F64, F8_E4M3 };

// Returns false for a dtype string this build does not know.
bool parse_dtype(std::string_view s, DType& out);
std::string_view dtype_name(DType t);  // "F32", "BF16", ...
size_t dtype_size(DType t);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, as torch does for .to(torch.bfloat16); NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round-to-nearest-even, overflow → inf

float f8e4m3_to_f32(uint8_t b);
uint8_t f32_to_f8e4m3(float f);  // round-to-nearest-even, saturating at ±448

// Converts `count` elements of `src` (type `t`, little-endian) to fp32. Only float types.
void convert_to_f32(DType t, const void* src, float* dst, size_t count);

}  // namespace warden::engine
