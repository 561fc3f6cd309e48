// Engine from a model folder: backend (make_backend), tokenizer.json, the EOS ids of
// config.json and generation_config.json, and the latter's sampling defaults. Kept apart from engine.cpp so code that brings its own backend (tests,
// benches) does not link the model loaders.
#include <algorithm>
#include <stdexcept>

#include "warden/engine/engine.hpp"
#include "warden/engine/model/generation_config.hpp"
#include "warden/engine/model/model_config.hpp"
#include "warden/engine/parallel/tensor_parallel_backend.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::engine {

namespace {

const std::string& checked_dir(const EngineConfig& c) {
  if (c.model_dir.empty()) throw std::runtime_error("engine: model_dir is empty");
  return c.model_dir;
}

// config.json's EOS ids, then generation_config.json's others (the union, in that order).
std::vector<int32_t> eos_ids_of(const std::string& dir) {
  std::vector<int32_t> ids;
  for (int64_t id : load_model_config(dir).eos_token_ids) ids.push_back(static_cast<int32_t>(id));
  for (int32_t id : load_generation_config(dir).eos_token_ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  return ids;
}

EngineConfig with_generation_defaults(EngineConfig c) {
  const GenerationDefaults d = load_generation_config(checked_dir(c));
  if (!c.default_temperature) c.default_temperature = d.temperature;
  if (!c.default_top_p) c.default_top_p = d.top_p;
  if (!c.default_top_k) c.default_top_k = d.top_k;
  return c;
}

// tensor_parallel > 1: ranks over an in-process group on the CPU backend. The CUDA
// backend is single-device for now, so an explicit cuda device is refused rather than
// quietly run on one GPU, and "auto" means the CPU (said in the log line).
std::unique_ptr<Backend> tensor_parallel_backend_for(const EngineConfig& c) {
  const bool is_auto = c.device == "auto" || c.device.empty();
  if (c.device != "cpu" && !is_auto)
    throw std::runtime_error("tensor_parallel " + std::to_string(c.tensor_parallel) + " on " + c.device +
                             ": the CUDA backend runs on one device only; use tensor_parallel: 1 or device: cpu");
  auto backend = parallel::make_tensor_parallel_cpu_backend(checked_dir(c), c.tensor_parallel);
  if (c.log)
    c.log(0, "tensor_parallel " + std::to_string(c.tensor_parallel) + ": " + backend->name() +
                 (is_auto ? " (device auto: tensor parallel runs on the CPU backend)" : ""));
  return backend;
}

// The backend, with the factory's one line on what "auto" chose going to the log.
std::unique_ptr<Backend> backend_for(const EngineConfig& c) {
  if (c.tensor_parallel > 1) return tensor_parallel_backend_for(c);
  std::string note;
  auto backend = make_backend(checked_dir(c), c.device, &note);
  if (!note.empty() && c.log) c.log(0, note);
  return backend;
}

}  // namespace

Engine::Engine(EngineConfig config)
    : Engine(with_generation_defaults(config), backend_for(config),
             std::make_shared<const Tokenizer>(Tokenizer::load(checked_dir(config) + "/tokenizer.json")),
             eos_ids_of(checked_dir(config))) {}

}  // namespace warden::engine
