#pragma once
// Stop strings across token boundaries. The detokenized stream is fed delta by delta; any
// tail that could still grow into a stop string is held back, so a partial stop string is
// never streamed, and text from the stop string on is dropped (OpenAI semantics).
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine::sampler {

class StopChecker {
 public:
  explicit StopChecker(std::vector<std::string> stops);

  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string completed; the request should finish
  };
  Result feed(std::string_view delta);
  // End of generation without a stop string: the held-back tail is ordinary text.
  std::string flush();
  bool empty() const { return stops_.empty(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

// Length of the longest suffix of `text` that is a proper prefix of one of `needles`.
size_t partial_suffix(std::string_view text, const std::vector<std::string>& needles);

}  // namespace warden::engine::sampler
