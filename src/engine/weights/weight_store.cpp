#include "warden/engine/weights/weight_store.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <simdjson.h>
#include <stdexcept>

namespace warden::engine {

namespace fs = std::filesystem;

namespace {

std::string shape_str(const std::vector<int64_t>& shape) {
  TensorInfo t;
  t.shape = shape;
  return t.shape_string();
}

// Shard file names in the order the index first mentions them.
std::vector<std::string> shards_from_index(const fs::path& index_path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.load(index_path.string()).get(root))
    throw std::runtime_error(index_path.string() + ": " + simdjson::error_message(err));
  simdjson::dom::object weight_map;
  if (root["weight_map"].get(weight_map))
    throw std::runtime_error(index_path.string() + ": no weight_map object");
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (auto kv : weight_map) {
    std::string_view file;
    if (kv.value.get(file)) throw std::runtime_error(index_path.string() + ": weight_map values must be file names");
    if (seen.insert(std::string(file)).second) files.emplace_back(file);
  }
  return files;
}

}  // namespace

WeightStore::WeightStore(const std::string& model_dir) : dir_(model_dir) {
  fs::path dir(model_dir);
  if (!fs::is_directory(dir)) throw std::runtime_error("model folder " + model_dir + " does not exist");
  std::vector<std::string> files;
  if (fs::exists(dir / "model.safetensors.index.json")) {
    files = shards_from_index(dir / "model.safetensors.index.json");
  } else if (fs::exists(dir / "model.safetensors")) {
    files = {"model.safetensors"};
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) throw std::runtime_error("no *.safetensors weights in " + model_dir);
  for (const auto& f : files) {
    files_.push_back(std::make_unique<SafetensorsFile>((dir / f).string()));
    for (const auto& [name, info] : files_.back()->tensors()) {
      if (!index_.emplace(name, &info).second)
        throw std::runtime_error("tensor " + name + " appears in more than one shard of " + model_dir);
      total_bytes_ += info.nbytes;
    }
  }
}

const TensorInfo* WeightStore::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorInfo& WeightStore::require(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorInfo* t = find(name);
  if (!t) throw std::runtime_error("missing tensor " + name + " in " + dir_);
  if (t->shape != shape)
    throw std::runtime_error("tensor " + name + " has shape " + t->shape_string() + ", expected " + shape_str(shape) +
                             " (from config.json)");
  return *t;
}

std::vector<float> WeightStore::load_f32(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorInfo& t = require(name, shape);
  if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16 && t.dtype != DType::F64)
    throw std::runtime_error("tensor " + name + " has dtype " + std::string(dtype_name(t.dtype)) +
                             "; weights must be F32, BF16 or F16");
  std::vector<float> out(size_t(t.numel()));
  convert_to_f32(t.dtype, t.data, out.data(), out.size());
  return out;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  for (const auto& kv : index_) out.push_back(kv.first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace warden::engine
