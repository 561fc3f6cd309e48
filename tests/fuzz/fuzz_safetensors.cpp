// libFuzzer target: the safetensors header parser and bounds checks. Each input is a
// whole file (8-byte little-endian header length, JSON header, data), written to a
// memfd and opened through /proc/self/fd; a bad file must be a std::runtime_error.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "warden/engine/weights/safetensors_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("warden-fuzz-safetensors", 0);
  if (fd < 0) std::abort();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  try {
    warden::engine::SafetensorsFile f("/proc/self/fd/" + std::to_string(fd));
    size_t sum = 0;
    for (const auto& [name, t] : f.tensors()) {
      // Every tensor must lie inside the mapping: touch its first and last byte.
      if (t.nbytes) sum += t.data[0] + t.data[t.nbytes - 1];
    }
    return sum == static_cast<size_t>(-1);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
