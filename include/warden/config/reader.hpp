#pragma once
// Helpers for section parsers (src/config/sections/*.cpp): typed reads from yaml-cpp nodes
// with ${VAR} expansion and file:line:col diagnostics. Only config code includes this.
//
// MapReader: every key a parser asks for becomes "known"; keys nobody asked for are
// reported as unknown (with a did-you-mean among the known ones) by finish().
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/config/config.hpp"

namespace warden::config {

class ParseContext {
 public:
  ParseContext(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  void error(Position p, std::string message);
  const std::string& file() const { return file_; }
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }
  bool has_errors() const { return !diagnostics_.empty(); }

  static Position pos(const YAML::Node& node);  // {0,0} when the node has no mark

  // Expands ${VAR}, ${VAR:-default} and $$. nullopt after reporting at `p` on error.
  // `from_env` (optional) is set when any part came from the environment.
  std::optional<std::string> expand(std::string_view raw, Position p, bool* from_env = nullptr,
                                    const std::string& what = {});

  // A scalar's text after expansion; reports (with `what` as the field path) when the node
  // is not a scalar. `from_env` as above.
  std::optional<std::string> scalar(const YAML::Node& node, Position p, const std::string& what,
                                    bool* from_env = nullptr);

  // YAML → JSON text (maps → objects, sequences → arrays, plain scalars that look like
  // numbers/bools/null stay bare, everything else a string). Strings are expanded.
  std::optional<std::string> to_json(const YAML::Node& node, Position p, const std::string& what);

 private:
  std::string file_;
  EnvLookup env_;
  std::vector<Diagnostic> diagnostics_;
};

// Closest candidate within a small edit distance, or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& candidates);

class MapReader {
 public:
  struct Entry {
    std::string key;
    Position key_pos;
    YAML::Node value;
    Position value_pos;  // falls back to key_pos when the value has no mark
  };

  // `path` names the map in messages ("server.limits"; "" for the top level). A null or
  // absent node is an empty map; any other non-map is reported.
  MapReader(ParseContext& ctx, const YAML::Node& node, std::string path, Position fallback = {});
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;
  MapReader(MapReader&&) = default;
  ~MapReader() { finish(); }

  bool is_map() const { return is_map_; }
  Position pos() const { return pos_; }
  const std::string& path() const { return path_; }
  ParseContext& ctx() { return ctx_; }
  std::string field(std::string_view key) const;  // "path.key"

  // Marks `key` known; the entry when present and not null.
  const Entry* get(std::string_view key);
  bool has(std::string_view key) { return get(key) != nullptr; }
  // All entries, marking them known (maps keyed by names: providers, models, teams).
  const std::vector<Entry>& entries();

  // Typed fields: leave `out` untouched when absent or null, report a wrong type or
  // out-of-range value. Return true when `out` was set.
  bool str(std::string_view key, std::string& out);
  bool integer(std::string_view key, int64_t& out, int64_t min = std::numeric_limits<int64_t>::min(),
               int64_t max = std::numeric_limits<int64_t>::max());
  bool integer(std::string_view key, int& out, int64_t min = std::numeric_limits<int>::min(),
               int64_t max = std::numeric_limits<int>::max());
  bool number(std::string_view key, double& out, double min = -std::numeric_limits<double>::infinity(),
              double max = std::numeric_limits<double>::infinity());
  bool boolean(std::string_view key, bool& out);
  // A sequence of scalars; `positions` (optional) gets each item's position.
  bool str_list(std::string_view key, std::vector<std::string>& out, std::vector<Position>* positions = nullptr);
  bool num_list(std::string_view key, std::vector<double>& out, double min, double max);
  // A map of scalars (headers, dlp actions).
  bool str_map(std::string_view key, std::map<std::string, std::string>& out);
  // Raw JSON text of any value.
  bool json(std::string_view key, std::string& out);
  // One of a fixed set of words.
  template <class E>
  bool choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> options) {
    std::string word;
    const Entry* e = get(key);
    if (!e || !str(key, word)) return false;
    std::vector<std::string> names;
    for (const auto& [name, value] : options) {
      if (name == word) {
        out = value;
        return true;
      }
      names.emplace_back(name);
    }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : " | ") + n;
    ctx_.error(e->value_pos, field(key) + ": expected one of " + list + did_you_mean_suffix(word, names));
    return false;
  }

  // A nested map (always returns a reader; an absent key gives an empty one).
  MapReader map(std::string_view key);

  // Reports unknown keys once. Called by the destructor if not called before.
  void finish();

 private:
  ParseContext& ctx_;
  std::string path_;
  Position pos_;
  bool is_map_ = false;
  bool finished_ = false;
  std::vector<Entry> entries_;
  std::set<std::string, std::less<>> known_;
};

// Items of a sequence node; reports (at `fallback`) when the node is neither null nor a sequence.
std::vector<std::pair<YAML::Node, Position>> sequence_items(ParseContext& ctx, const YAML::Node& node,
                                                            const std::string& what, Position fallback);

}  // namespace warden::config
