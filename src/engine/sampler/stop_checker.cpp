// Stop-string matching with hold-back (see stop_checker.hpp).
#include "warden/engine/sampler/stop_checker.hpp"

#include <algorithm>

namespace warden::engine::sampler {

size_t partial_suffix(std::string_view text, const std::vector<std::string>& needles) {
  size_t best = 0;
  for (const auto& n : needles) {
    size_t max_len = std::min(text.size(), n.empty() ? size_t{0} : n.size() - 1);
    for (size_t len = max_len; len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(n).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

StopChecker::StopChecker(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopChecker::Result StopChecker::feed(std::string_view delta) {
  Result r;
  if (stops_.empty()) {
    r.text.assign(delta);
    return r;
  }
  held_.append(delta);
  size_t first = std::string::npos;
  for (const auto& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    r.text = held_.substr(0, first);
    r.stopped = true;
    held_.clear();
    return r;
  }
  size_t keep = partial_suffix(held_, stops_);
  r.text = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return r;
}

std::string StopChecker::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace warden::engine::sampler
