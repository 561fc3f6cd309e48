#pragma once
// What the backend factory needs to know about CUDA devices, without CUDA types, so
// backend_factory.cpp stays plain C++.
#include <memory>
#include <string>

#include "warden/engine/backend.hpp"

namespace warden::engine::cuda {

// Number of usable CUDA devices; 0 with `why` set when there is no driver, no device,
// or the runtime fails to start.
int device_count(std::string* why);
// "NVIDIA H100 80GB HBM3, 79.1 GiB, sm_90".
std::string device_summary(int device);
// Throws std::runtime_error (CudaError for device failures).
std::unique_ptr<Backend> make_cuda_backend(const std::string& model_dir, int device);

}  // namespace warden::engine::cuda
