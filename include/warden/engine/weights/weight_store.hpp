#pragma once
// All tensors of a model folder under their Hugging Face names: one
// model.safetensors, or the shards listed by model.safetensors.index.json, or
// (failing both) every *.safetensors file in the folder. Immutable after open.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "warden/engine/weights/safetensors_file.hpp"

namespace warden::engine {

class WeightStore {
 public:
  // Throws std::runtime_error when the folder has no weights or a shard is bad.
  explicit WeightStore(const std::string& model_dir);

  const TensorInfo* find(const std::string& name) const;
  // Throws "missing tensor NAME in DIR" or "tensor NAME has shape [..], expected [..]".
  const TensorInfo& require(const std::string& name, const std::vector<int64_t>& shape) const;
  // Copies the tensor into fp32 (converting bf16/f16), after checking its shape.
  std::vector<float> load_f32(const std::string& name, const std::vector<int64_t>& shape) const;

  size_t total_bytes() const { return total_bytes_; }
  size_t tensor_count() const { return index_.size(); }
  const std::string& dir() const { return dir_; }
  std::vector<std::string> names() const;

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string, const TensorInfo*> index_;
  size_t total_bytes_ = 0;
};

}  // namespace warden::engine
