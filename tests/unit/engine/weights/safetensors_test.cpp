// Safetensors reading: hand-built files (bytes written here, not by warden's writer)
// for the dtype conversions and error paths; the writer and sharded index round-trip.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/weights/safetensors_file.hpp"
#include "warden/engine/weights/safetensors_writer.hpp"
#include "warden/engine/weights/weight_store.hpp"

using namespace warden::engine;
using warden::test::TempDir;

namespace {

// header JSON + raw little-endian payload, exactly as the format specifies.
void write_raw(const std::string& path, const std::string& header, const std::vector<uint8_t>& payload) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(char(n >> (8 * i)));
  out << header;
  out.write(reinterpret_cast<const char*>(payload.data()), std::streamsize(payload.size()));
}

std::vector<uint8_t> u16s(std::initializer_list<uint16_t> v) {
  std::vector<uint8_t> b;
  for (auto x : v) {
    b.push_back(uint8_t(x & 0xff));
    b.push_back(uint8_t(x >> 8));
  }
  return b;
}

std::vector<float> as_f32(const TensorInfo& t) {
  std::vector<float> out(size_t(t.numel()));
  convert_to_f32(t.dtype, t.data, out.data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("safetensors: bf16, f16 and f32 tensors decode to the right floats", "[weights]") {
  TempDir dir("st");
  // bf16: 1.0 = 0x3f80, -2.5 = 0xc020, 0.15625 = 0x3e20, (1 + 97/128) · 2^127 = 0x7f61
  // f16:  1.0 = 0x3c00, -0.5 = 0xb800, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001
  std::vector<uint8_t> payload = u16s({0x3f80, 0xc020, 0x3e20, 0x7f61});
  auto f16 = u16s({0x3c00, 0xb800, 0x7bff, 0x0001});
  payload.insert(payload.end(), f16.begin(), f16.end());
  float f32[2] = {0.1f, -7.25f};
  const auto* f32b = reinterpret_cast<const uint8_t*>(f32);
  payload.insert(payload.end(), f32b, f32b + 8);
  write_raw(dir / "a.safetensors",
            R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},)"
            R"("h":{"dtype":"F16","shape":[4],"data_offsets":[8,16]},"f":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
            payload);
  SafetensorsFile file(dir / "a.safetensors");
  REQUIRE(file.tensors().size() == 3);
  CHECK(file.metadata().at("format") == "pt");
  const TensorInfo* b = file.find("b");
  REQUIRE(b);
  CHECK(b->dtype == DType::BF16);
  CHECK(b->shape == std::vector<int64_t>{2, 2});
  auto bv = as_f32(*b);
  CHECK(bv[0] == 1.0f);
  CHECK(bv[1] == -2.5f);
  CHECK(bv[2] == 0.15625f);
  CHECK(bv[3] == std::ldexp(1.0f + 97.0f / 128.0f, 127));
  auto hv = as_f32(*file.find("h"));
  CHECK(hv[0] == 1.0f);
  CHECK(hv[1] == -0.5f);
  CHECK(hv[2] == 65504.0f);
  CHECK(hv[3] == std::ldexp(1.0f, -24));
  auto fv = as_f32(*file.find("f"));
  CHECK(fv[0] == 0.1f);
  CHECK(fv[1] == -7.25f);
  CHECK(file.find("nope") == nullptr);
}

TEST_CASE("safetensors: fp32 → bf16/f16 rounding matches IEEE round-to-nearest-even", "[weights]") {
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(0.1f) == 0x3dcd);            // 0x3dcccccd rounds up
  CHECK(f32_to_bf16(1.00390625f) == 0x3f80);     // exact tie 0x3f808000 → even (down)
  CHECK(f32_to_bf16(1.01171875f) == 0x3f82);     // tie 0x3f818000 → even (up)
  CHECK(f32_to_f16(0.1f) == 0x2e66);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);
  CHECK(f32_to_f16(65520.0f) == 0x7c00);  // rounds to infinity
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  for (uint32_t h = 0; h < 0x7c00; ++h) REQUIRE(f32_to_f16(f16_to_f32(uint16_t(h))) == h);
}

TEST_CASE("safetensors: fp8 e4m3 bytes decode and encode as OCP e4m3fn", "[weights]") {
  CHECK(f8e4m3_to_f32(0x38) == 1.0f);     // exponent 7 = bias, mantissa 0
  CHECK(f8e4m3_to_f32(0xb8) == -1.0f);
  CHECK(f8e4m3_to_f32(0x7e) == 448.0f);   // the largest finite value
  CHECK(f8e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
  CHECK(f8e4m3_to_f32(0x08) == std::ldexp(1.0f, -6));  // smallest normal
  CHECK(std::isnan(f8e4m3_to_f32(0x7f)));
  CHECK(f32_to_f8e4m3(1.0625f) == 0x38);  // tie between 1.0 and 1.125 → even
  CHECK(f32_to_f8e4m3(1.1875f) == 0x3a);  // tie between 1.125 and 1.25 → even
  CHECK(f32_to_f8e4m3(1000.0f) == 0x7e);  // saturates
  CHECK(f32_to_f8e4m3(-3.0f) == 0xc4);    // 1.5 · 2^1: sign, exponent 8, mantissa 4
  for (int b = 0; b < 256; ++b)
    if ((b & 0x7f) != 0x7f) REQUIRE(f32_to_f8e4m3(f8e4m3_to_f32(uint8_t(b))) == ((b == 0x80) ? 0x80 : b));
}

TEST_CASE("safetensors: malformed files fail with the file name and the reason", "[weights]") {
  TempDir dir("st-bad");
  write_raw(dir / "short.safetensors", R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
            std::vector<uint8_t>(8));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "short.safetensors"), Catch::Contains("short.safetensors") &&
                                                                    Catch::Contains("outside the file"));
  write_raw(dir / "size.safetensors", R"({"x":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}})",
            std::vector<uint8_t>(8));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "size.safetensors"), Catch::Contains("needs 6 bytes but has 8"));
  write_raw(dir / "dtype.safetensors", R"({"x":{"dtype":"F8_E4M3X","shape":[1],"data_offsets":[0,1]}})",
            std::vector<uint8_t>(1));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "dtype.safetensors"), Catch::Contains("unsupported dtype"));
  write_raw(dir / "overlap.safetensors",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::vector<uint8_t>(12));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "overlap.safetensors"), Catch::Contains("overlaps or leaves a gap"));
  write_raw(dir / "trailing.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            std::vector<uint8_t>(8));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "trailing.safetensors"), Catch::Contains("4 trailing bytes"));
  {
    std::ofstream out(dir / "huge.safetensors", std::ios::binary);
    uint8_t len[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    out.write(reinterpret_cast<const char*>(len), 8);
    out << "{}";
  }
  CHECK_THROWS_WITH(SafetensorsFile(dir / "huge.safetensors"), Catch::Contains("exceeds file size"));
  CHECK_THROWS_WITH(SafetensorsFile(dir / "missing.safetensors"), Catch::Contains("cannot open"));
}

TEST_CASE("safetensors: writer output reads back; shards are found through the index", "[weights]") {
  TempDir dir("st-shards");
  std::vector<TensorSpec> specs;
  for (int i = 0; i < 5; ++i)
    specs.push_back(TensorSpec{"t" + std::to_string(i), i % 2 ? DType::BF16 : DType::F32, {4, 8},
                               [i](float* d, size_t n) {
                                 for (size_t k = 0; k < n; ++k) d[k] = float(i) + 0.25f * float(k);
                               }});
  // 128-byte f32 and 64-byte bf16 tensors under a 200-byte limit: {t0,t1} {t2,t3} {t4}.
  write_safetensors_model(dir.str(), specs, /*max_shard_bytes=*/200);
  REQUIRE(std::filesystem::exists(dir / "model.safetensors.index.json"));
  REQUIRE(std::filesystem::exists(dir / "model-00003-of-00003.safetensors"));
  REQUIRE_FALSE(std::filesystem::exists(dir / "model.safetensors"));

  WeightStore store(dir.str());
  CHECK(store.tensor_count() == 5);
  for (int i = 0; i < 5; ++i) {
    auto v = store.load_f32("t" + std::to_string(i), {4, 8});
    for (size_t k = 0; k < v.size(); ++k) REQUIRE(v[k] == float(i) + 0.25f * float(k));  // exact in bf16 too
  }
  // Data of every tensor is 8-byte aligned (header padded), so f32 can be used in place.
  for (const auto& name : store.names())
    CHECK(reinterpret_cast<uintptr_t>(store.find(name)->data) % 8 == 0);
  CHECK_THROWS_WITH(store.require("t9", {4, 8}), Catch::Contains("missing tensor t9"));
  CHECK_THROWS_WITH(store.require("t1", {8, 4}), Catch::Contains("has shape [4, 8], expected [8, 4]"));
}

TEST_CASE("safetensors: a folder without weights, or a tensor in two shards, is an error", "[weights]") {
  TempDir dir("st-empty");
  CHECK_THROWS_WITH(WeightStore(dir.str()), Catch::Contains("no *.safetensors"));
  CHECK_THROWS_WITH(WeightStore(dir / "absent"), Catch::Contains("does not exist"));
  auto one = std::vector<TensorSpec>{TensorSpec{"w", DType::F32, {2}, nullptr}};
  write_safetensors(dir / "a.safetensors", one);
  write_safetensors(dir / "b.safetensors", one);
  CHECK_THROWS_WITH(WeightStore(dir.str()), Catch::Contains("more than one shard"));
}
