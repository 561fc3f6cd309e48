#include "warden/engine/weights/safetensors_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <simdjson.h>
#include <stdexcept>
#include <utility>
#include <vector>

namespace warden::engine {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}
}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, std::string("cannot stat: ") + std::strerror(errno));
  }
  size_ = size_t(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    fail(path, "too small to be a safetensors file");
  }
  map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    fail(path, std::string("mmap failed: ") + std::strerror(errno));
  }
  try {
    const auto* base = static_cast<const uint8_t*>(map_);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = header_len << 8 | base[i];
    if (header_len > size_ - 8) fail(path, "header length " + std::to_string(header_len) + " exceeds file size");
    const uint8_t* data_start = base + 8 + header_len;
    size_t data_size = size_ - 8 - header_len;

    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::padded_string header(reinterpret_cast<const char*>(base + 8), header_len);
    if (auto err = parser.parse(header).get(root)) fail(path, std::string("bad JSON header: ") + simdjson::error_message(err));
    simdjson::dom::object obj;
    if (root.get(obj)) fail(path, "header is not a JSON object");
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    for (auto field : obj) {
      std::string name(field.key);
      if (name == "__metadata__") {
        simdjson::dom::object meta;
        if (!field.value.get(meta))
          for (auto m : meta) {
            std::string_view v;
            if (!m.value.get(v)) metadata_[std::string(m.key)] = std::string(v);
          }
        continue;
      }
      TensorInfo t;
      t.name = name;
      t.file = path;
      std::string_view dtype;
      if (field.value["dtype"].get(dtype)) fail(path, "tensor " + name + " has no dtype");
      if (!parse_dtype(dtype, t.dtype)) fail(path, "tensor " + name + " has unsupported dtype " + std::string(dtype));
      simdjson::dom::array shape, offsets;
      if (field.value["shape"].get(shape)) fail(path, "tensor " + name + " has no shape");
      for (auto d : shape) {
        int64_t v;
        if (d.get(v) || v < 0) fail(path, "tensor " + name + " has a bad shape");
        t.shape.push_back(v);
      }
      if (field.value["data_offsets"].get(offsets) || offsets.size() != 2)
        fail(path, "tensor " + name + " has no data_offsets");
      uint64_t begin = 0, end = 0;
      if (offsets.at(0).get(begin) || offsets.at(1).get(end) || begin > end || end > data_size)
        fail(path, "tensor " + name + " has data_offsets outside the file");
      t.nbytes = size_t(end - begin);
      if (size_t(t.numel()) * dtype_size(t.dtype) != t.nbytes)
        fail(path, "tensor " + name + " " + t.shape_string() + " " + std::string(dtype) + " needs " +
                       std::to_string(size_t(t.numel()) * dtype_size(t.dtype)) + " bytes but has " +
                       std::to_string(t.nbytes));
      t.data = data_start + begin;
      if (!tensors_.emplace(name, std::move(t)).second) fail(path, "tensor " + name + " appears twice in the header");
      spans.emplace_back(begin, end);
    }
    // As the reference implementation requires: tensors tile the data area exactly, with
    // no overlap and no gap, so every byte belongs to one tensor.
    std::sort(spans.begin(), spans.end());
    uint64_t expected = 0;
    for (const auto& [b, e] : spans) {
      if (b != expected) fail(path, "tensor data overlaps or leaves a gap at byte " + std::to_string(b));
      expected = e;
    }
    if (expected != data_size) fail(path, "data area has " + std::to_string(data_size - expected) + " trailing bytes");
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace warden::engine
