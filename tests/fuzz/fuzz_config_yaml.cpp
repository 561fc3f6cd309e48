// libFuzzer target: the YAML config loader (parse + validate + ${VAR} expansion) on any
// text; the environment lookup is fixed so runs are reproducible.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "warden/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::config::EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "DEEPSEEK_API_KEY") return std::string("sk-fuzz");
    return std::nullopt;
  };
  auto r = warden::config::load_config_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", env);
  (void)r;
  return 0;
}
