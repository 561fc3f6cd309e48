// load_generation_config: generation_config.json → EOS ids and sampling defaults.
#include "warden/engine/model/generation_config.hpp"

#include <filesystem>
#include <stdexcept>

#include <simdjson.h>

namespace warden::engine {

GenerationDefaults load_generation_config(const std::string& model_dir) {
  GenerationDefaults d;
  const std::string path = model_dir + "/generation_config.json";
  if (!std::filesystem::exists(path)) return d;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.load(path).get(obj) != simdjson::SUCCESS) throw std::runtime_error(path + ": not a JSON object");
  auto bad = [&](const char* field) { return std::runtime_error(path + ": " + field + " has the wrong type"); };
  simdjson::dom::element e;
  if (obj["eos_token_id"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    int64_t id = 0;
    simdjson::dom::array arr;
    if (e.get(id) == simdjson::SUCCESS) {
      d.eos_token_ids.push_back(static_cast<int32_t>(id));
    } else if (e.get(arr) == simdjson::SUCCESS) {
      for (auto v : arr) {
        if (v.get(id) != simdjson::SUCCESS) throw bad("eos_token_id");
        d.eos_token_ids.push_back(static_cast<int32_t>(id));
      }
    } else {
      throw bad("eos_token_id");
    }
  }
  double x = 0;
  if (obj["temperature"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get(x) != simdjson::SUCCESS) throw bad("temperature");
    d.temperature = static_cast<float>(x);
  }
  if (obj["top_p"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get(x) != simdjson::SUCCESS) throw bad("top_p");
    d.top_p = static_cast<float>(x);
  }
  int64_t k = 0;
  if (obj["top_k"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get(k) != simdjson::SUCCESS) throw bad("top_k");
    d.top_k = static_cast<int32_t>(k);
  }
  return d;
}

}  // namespace warden::engine
