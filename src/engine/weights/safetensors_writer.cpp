#include "warden/engine/weights/safetensors_writer.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace warden::engine {

namespace {

size_t numel(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  return n;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void encode(DType t, const float* src, size_t n, std::vector<uint8_t>& out) {
  out.resize(n * dtype_size(t));
  switch (t) {
    case DType::F32:
      std::memcpy(out.data(), src, n * 4);
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_f16(src[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      return;
    case DType::F8_E4M3:  // values must already be divided by their block scale
      for (size_t i = 0; i < n; ++i) out[i] = f32_to_f8e4m3(src[i]);
      return;
    default:
      throw std::runtime_error("safetensors writer supports F32, BF16, F16 and F8_E4M3 only");
  }
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (i) header += ",";
      header += "\"" + json_escape(metadata[i].first) + "\":\"" + json_escape(metadata[i].second) + "\"";
    }
    header += "}";
  }
  size_t offset = 0;
  for (const auto& t : tensors) {
    size_t bytes = numel(t.shape) * dtype_size(t.dtype);
    if (header.size() > 1) header += ",";
    header += "\"" + json_escape(t.name) + "\":{\"dtype\":\"" + std::string(dtype_name(t.dtype)) + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  while ((8 + header.size()) % 8) header += ' ';

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  uint64_t len = header.size();
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = uint8_t(len >> (8 * i));
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(header.data(), std::streamsize(header.size()));
  std::vector<float> values;
  std::vector<uint8_t> encoded;
  // Multi-GB presets take a minute: show progress, but only to a person at a terminal.
  const bool progress = offset >= (size_t(256) << 20) && ::isatty(STDERR_FILENO);
  size_t written = 0;
  int shown = -1;
  for (const auto& t : tensors) {
    values.assign(numel(t.shape), 0.0f);
    if (t.fill) t.fill(values.data(), values.size());
    encode(t.dtype, values.data(), values.size(), encoded);
    out.write(reinterpret_cast<const char*>(encoded.data()), std::streamsize(encoded.size()));
    written += encoded.size();
    if (progress && int(100 * written / offset) != shown) {
      shown = int(100 * written / offset);
      std::fprintf(stderr, "\rwriting %s %3d%%", path.c_str(), shown);
      std::fflush(stderr);
    }
  }
  if (progress) std::fprintf(stderr, "\n");
  out.flush();
  if (!out) throw std::runtime_error("write failed for " + path);
}

void write_safetensors_model(const std::string& dir, const std::vector<TensorSpec>& tensors, size_t max_shard_bytes) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<std::vector<TensorSpec>> shards(1);
  size_t shard_bytes = 0, total = 0;
  for (const auto& t : tensors) {
    size_t bytes = numel(t.shape) * dtype_size(t.dtype);
    if (max_shard_bytes > 0 && shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(t);
    shard_bytes += bytes;
    total += bytes;
  }
  if (shards.size() == 1) {
    write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
    return;
  }
  std::string index = "{\n  \"metadata\": {\"total_size\": " + std::to_string(total) + "},\n  \"weight_map\": {";
  bool first = true;
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    write_safetensors((fs::path(dir) / name).string(), shards[s]);
    for (const auto& t : shards[s]) {
      index += std::string(first ? "" : ",") + "\n    \"" + json_escape(t.name) + "\": \"" + name + "\"";
      first = false;
    }
  }
  index += "\n  }\n}\n";
  std::ofstream out(fs::path(dir) / "model.safetensors.index.json", std::ios::trunc);
  out << index;
  if (!out) throw std::runtime_error("cannot write index in " + dir);
}

}  // namespace warden::engine
