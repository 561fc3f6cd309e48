#pragma once
// A closed set of choices a config.json spells as strings (scoring_func, topk_method),
// parsed once: code on the hot path compares enum values, not strings. The value still
// converts from and compares with its config spelling, so configs, tests and logs read
// as before (`m.topk_method = "noaux_tc"`, `m.scoring == "sigmoid"`); an unknown
// spelling throws std::invalid_argument naming the accepted ones.
#include <array>
#include <cstddef>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace warden::engine {

// Names: a type with `static constexpr std::array<std::string_view, N> names`, indexed by
// the enum's values 0..N-1.
template <class E, class Names>
class SpelledEnum {
 public:
  constexpr SpelledEnum(E v) : v_(v) {}  // NOLINT: implicit by design
  SpelledEnum(std::string_view spelling) : v_(parse_or_throw(spelling)) {}  // NOLINT
  SpelledEnum(const char* spelling) : SpelledEnum(std::string_view(spelling)) {}  // NOLINT
  SpelledEnum(const std::string& spelling) : SpelledEnum(std::string_view(spelling)) {}  // NOLINT

  static std::optional<SpelledEnum> parse(std::string_view spelling) {
    for (size_t i = 0; i < Names::names.size(); ++i)
      if (Names::names[i] == spelling) return SpelledEnum(static_cast<E>(i));
    return std::nullopt;
  }
  // "a, b, c": for error messages.
  static std::string accepted() {
    std::string s;
    for (auto n : Names::names) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
  }

  constexpr E value() const { return v_; }
  constexpr operator E() const { return v_; }  // NOLINT: switch on it
  constexpr std::string_view name() const { return Names::names[static_cast<size_t>(v_)]; }

  friend constexpr bool operator==(SpelledEnum a, SpelledEnum b) { return a.v_ == b.v_; }
  friend constexpr bool operator==(SpelledEnum a, E b) { return a.v_ == b; }
  friend constexpr bool operator==(SpelledEnum a, std::string_view s) { return a.name() == s; }
  friend constexpr bool operator==(SpelledEnum a, const char* s) { return a.name() == std::string_view(s); }
  friend std::ostream& operator<<(std::ostream& os, SpelledEnum a) { return os << a.name(); }

 private:
  static E parse_or_throw(std::string_view spelling) {
    if (auto v = parse(spelling)) return v->v_;
    throw std::invalid_argument("'" + std::string(spelling) + "' is not one of: " + accepted());
  }
  E v_;
};

}  // namespace warden::engine
