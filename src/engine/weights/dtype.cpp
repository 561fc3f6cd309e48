#include "warden/engine/weights/dtype.hpp"

#include <cmath>
#include <stdexcept>

namespace warden::engine {

namespace {
struct Entry {
  std::string_view name;
  DType type;
  size_t size;
};
constexpr Entry kTypes[] = {
    {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2},
    {"I64", DType::I64, 8}, {"I32", DType::I32, 4}, {"I8", DType::I8, 1},
    {"U8", DType::U8, 1},   {"BOOL", DType::Bool, 1}, {"F64", DType::F64, 8},
    {"F8_E4M3", DType::F8_E4M3, 1},
};
}  // namespace

bool parse_dtype(std::string_view s, DType& out) {
  for (const auto& e : kTypes)
    if (e.name == s) {
      out = e.type;
      return true;
    }
  return false;
}

std::string_view dtype_name(DType t) {
  for (const auto& e : kTypes)
    if (e.type == t) return e.name;
  return "?";
}

size_t dtype_size(DType t) {
  for (const auto& e : kTypes)
    if (e.type == t) return e.size;
  return 0;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00;           // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00;          // rounds to >= 65520 → inf
  if (abs < 0x38800000u) {                               // below the smallest normal: subnormal
    // Scale into the subnormal grid with the FPU, which rounds to nearest even.
    float a;
    std::memcpy(&a, &abs, 4);
    return sign | uint16_t(std::nearbyint(a * 16777216.0f));  // 2^24
  }
  uint32_t rounding = 0xfffu + ((abs >> 13) & 1u);
  return sign | uint16_t((abs - 0x38000000u + rounding) >> 13);
}

float f8e4m3_to_f32(uint8_t b) {
  const int exp = (b >> 3) & 0xf, mant = b & 7;
  const float sign = (b & 0x80) ? -1.0f : 1.0f;
  if (exp == 0xf && mant == 7) return NAN;
  if (exp == 0) return sign * std::ldexp(float(mant) / 8.0f, -6);
  return sign * std::ldexp(1.0f + float(mant) / 8.0f, exp - 7);
}

uint8_t f32_to_f8e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  const float a = std::fabs(f);
  // The 127 finite non-negative codes are increasing in value: binary search for the
  // nearest, ties to the even (mantissa bit 0 clear) code.
  uint8_t lo = 0, hi = 0x7e;
  if (a >= f8e4m3_to_f32(hi)) return sign | hi;
  while (hi - lo > 1) {
    uint8_t mid = uint8_t((lo + hi) / 2);
    (f8e4m3_to_f32(mid) <= a ? lo : hi) = mid;
  }
  const float dl = a - f8e4m3_to_f32(lo), dh = f8e4m3_to_f32(hi) - a;
  const uint8_t code = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
  return sign | code;
}

void convert_to_f32(DType t, const void* src, float* dst, size_t count) {
  const auto* p = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, p, count * 4);
      return;
    case DType::BF16:
      for (size_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return;
    case DType::F16:
      for (size_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      return;
    case DType::F8_E4M3:
      for (size_t i = 0; i < count; ++i) dst[i] = f8e4m3_to_f32(p[i]);
      return;
    case DType::F64:
      for (size_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        dst[i] = float(d);
      }
      return;
    default:
      throw std::runtime_error("cannot convert " + std::string(dtype_name(t)) + " tensor to fp32");
  }
}

}  // namespace warden::engine
