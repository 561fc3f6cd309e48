#pragma once
// One *.safetensors file, memory-mapped read-only. The header is parsed and checked
// up front (offsets inside the file, sizes matching shape × dtype) so later reads
// never go out of bounds. Immutable after open: safe to read from any thread.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "warden/engine/weights/dtype.hpp"

namespace warden::engine {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapping
  size_t nbytes = 0;
  std::string file;               // for error messages

  int64_t numel() const;
  std::string shape_string() const;  // "[4, 8]"
};

class SafetensorsFile {
 public:
  // Throws std::runtime_error naming the file on any I/O or format problem.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo* find(const std::string& name) const;
  size_t file_size() const { return size_; }

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace warden::engine
