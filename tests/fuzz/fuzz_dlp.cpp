// libFuzzer target: the DLP engine (every built-in detector and its validator) on any
// text: matches must be in bounds, ordered and non-overlapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "warden/config/config.hpp"
#include "warden/policy/dlp/dlp_engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const warden::policy::DlpEngine engine(std::vector<warden::config::CustomDetector>{});
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<warden::policy::DlpMatch> out;
  if (!engine.scan(text, out)) return 0;
  size_t last = 0;
  for (const auto& m : out) {
    if (m.start < last || m.end < m.start || m.end > size) std::abort();
    last = m.end;
  }
  return 0;
}
