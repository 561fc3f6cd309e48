// make_backend: picks the backend for a device string. "auto" is CUDA device 0 when
// this build has the CUDA backend and the machine has a device, else the CPU; the
// choice and its reason go to `note` (one line, for the caller's log).
#include <memory>
#include <stdexcept>
#include <string>

#include "warden/engine/backend.hpp"
#include "warden/engine/backend/cpu/cpu_backend.hpp"

#ifdef WARDEN_HAVE_CUDA
#include "cuda/cuda_device.hpp"
#endif

namespace warden::engine {

namespace {

// "cuda" → 0, "cuda:3" → 3; throws on anything else.
int parse_cuda_index(const std::string& device) {
  if (device == "cuda") return 0;
  const std::string digits = device.substr(5);
  if (device.size() < 6 || device[4] != ':' || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 4)
    throw std::runtime_error("unknown device '" + device + "' (expected auto, cpu or cuda:N)");
  return std::stoi(digits);
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& model_dir, const std::string& device, std::string* note) {
  if (device == "cpu") return std::make_unique<cpu::CpuBackend>(model_dir);
  const bool is_auto = device == "auto" || device.empty();
#ifdef WARDEN_HAVE_CUDA
  if (is_auto) {
    std::string why;
    if (cuda::device_count(&why) > 0) {
      if (note) *note = "device auto: using cuda:0 (" + cuda::device_summary(0) + ")";
      return cuda::make_cuda_backend(model_dir, 0);
    }
    if (note) *note = "device auto: no usable CUDA device (" + why + "), using the CPU backend";
    return std::make_unique<cpu::CpuBackend>(model_dir);
  }
  if (device.rfind("cuda", 0) == 0) {
    const int index = parse_cuda_index(device);
    std::string why;
    const int count = cuda::device_count(&why);
    if (count == 0) throw std::runtime_error("device " + device + " requested but there is no CUDA device (" + why + ")");
    if (index >= count)
      throw std::runtime_error("device " + device + " requested but this machine has " + std::to_string(count) +
                               " CUDA device(s)");
    return cuda::make_cuda_backend(model_dir, index);
  }
#else
  if (is_auto) {
    if (note) *note = "device auto: this warden was built without the CUDA backend, using the CPU backend";
    return std::make_unique<cpu::CpuBackend>(model_dir);
  }
  if (device.rfind("cuda", 0) == 0)
    throw std::runtime_error("device " + device + " requested but this warden was built without the CUDA backend");
#endif
  throw std::runtime_error("unknown device '" + device + "' (expected auto, cpu or cuda:N)");
}

}  // namespace warden::engine
