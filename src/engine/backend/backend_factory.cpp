// make_backend: picks the backend for a device string. Only the CPU backend exists
// in this build; "auto" therefore means "cpu" until a CUDA backend registers here.
#include <memory>
#include <stdexcept>
#include <string>

#include "warden/engine/backend.hpp"
#include "warden/engine/backend/cpu/cpu_backend.hpp"

namespace warden::engine {

std::unique_ptr<Backend> make_backend(const std::string& model_dir, const std::string& device) {
  if (device == "cpu" || device == "auto" || device.empty())
    return std::make_unique<cpu::CpuBackend>(model_dir);
  if (device.rfind("cuda", 0) == 0)
    throw std::runtime_error("device " + device + " requested but this warden was built without the CUDA backend");
  throw std::runtime_error("unknown device '" + device + "' (expected auto, cpu or cuda:N)");
}

}  // namespace warden::engine
