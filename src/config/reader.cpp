// Typed YAML reads with ${VAR} expansion and file:line:col diagnostics (see reader.hpp).
#include "warden/config/reader.hpp"

#include "warden/common/json_quote.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace warden::config {

namespace {

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tmp.c_str(), &end);
  if (errno != 0 || end != tmp.c_str() + tmp.size() || std::isnan(v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string l(s);
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

void json_escape(std::string& out, std::string_view s) { append_json_quoted(out, s); }

std::string quote(std::string_view s) {
  // For messages: short and printable, values from the environment never reach here.
  std::string q = "\"";
  for (char c : s.substr(0, 60)) q += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (s.size() > 60) q += "...";
  return q + "\"";
}

const char* kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "null";
    default: return "a scalar";
  }
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      // transposition
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

void ParseContext::error(Position p, std::string message) {
  diagnostics_.push_back({file_, p.line > 0 ? p.line : 1, p.col > 0 ? p.col : 1, std::move(message)});
}

Position ParseContext::pos(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  auto m = node.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

std::optional<std::string> ParseContext::expand(std::string_view raw, Position p, bool* from_env,
                                                const std::string& what) {
  const std::string prefix = what.empty() ? "" : what + ": ";
  if (raw.find('$') == std::string_view::npos) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '$' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    if (raw[i + 1] == '$') {  // $$ → literal $
      out += '$';
      ++i;
      continue;
    }
    if (raw[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      error(p, prefix + "unterminated ${ (write $$ for a literal $)");
      return std::nullopt;
    }
    std::string_view inner = raw.substr(i + 2, close - i - 2);
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (auto dash = inner.find(":-"); dash != std::string_view::npos) {
      name = inner.substr(0, dash);
      fallback = inner.substr(dash + 2);
    }
    if (!valid_env_name(name)) {
      error(p, prefix + "bad variable reference ${" + std::string(inner.substr(0, 40)) +
                   "}: expected ${NAME} or ${NAME:-default} with NAME of [A-Za-z0-9_]");
      return std::nullopt;
    }
    auto value = env_ ? env_(name) : std::nullopt;
    if (value && (!value->empty() || !fallback)) {
      out += *value;
      if (from_env) *from_env = true;
    } else if (fallback) {
      out += *fallback;
    } else {
      error(p, prefix + "environment variable " + std::string(name) + " is not set (write ${" + std::string(name) +
                   ":-} to allow it to be empty)");
      return std::nullopt;
    }
    i = close;
  }
  return out;
}

std::optional<std::string> ParseContext::scalar(const YAML::Node& node, Position p, const std::string& what,
                                                bool* from_env) {
  if (!node.IsScalar()) {
    error(p, what + ": expected a scalar, got " + kind_name(node));
    return std::nullopt;
  }
  return expand(node.Scalar(), p, from_env, what);
}

std::optional<std::string> ParseContext::to_json(const YAML::Node& node, Position p, const std::string& what) {
  std::string out;
  bool ok = true;
  auto rec = [&](auto&& self, const YAML::Node& n, Position at) -> void {
    if (!ok) return;
    Position here = pos(n).line ? pos(n) : at;
    switch (n.Type()) {
      case YAML::NodeType::Map: {
        out += '{';
        bool first = true;
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (!first) out += ',';
          first = false;
          if (!it->first.IsScalar()) {
            error(pos(it->first).line ? pos(it->first) : here, what + ": map keys must be scalars");
            ok = false;
            return;
          }
          json_escape(out, it->first.Scalar());
          out += ':';
          self(self, it->second, here);
        }
        out += '}';
        break;
      }
      case YAML::NodeType::Sequence: {
        out += '[';
        bool first = true;
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (!first) out += ',';
          first = false;
          self(self, *it, here);
        }
        out += ']';
        break;
      }
      case YAML::NodeType::Scalar: {
        bool quoted = n.Tag() == "!";
        auto text = expand(n.Scalar(), here, nullptr, what);
        if (!text) {
          ok = false;
          return;
        }
        if (!quoted && text == n.Scalar()) {
          if (parse_int(*text) || parse_double(*text)) {
            // Keep JSON-valid numbers bare; YAML-only spellings (.5, 1e5 without digits) become strings.
            auto d = parse_double(*text);
            if (d && std::isfinite(*d) && (*text)[0] != '.' && text->find_first_of("xX") == std::string::npos) {
              out += (*text)[0] == '+' ? text->substr(1) : *text;
              break;
            }
          }
          if (auto b = parse_bool(*text); b && (*text == "true" || *text == "false")) {
            out += *text;
            break;
          }
          if (*text == "null" || *text == "~") {
            out += "null";
            break;
          }
        }
        json_escape(out, *text);
        break;
      }
      default:
        out += "null";
    }
  };
  rec(rec, node, p);
  if (!ok) return std::nullopt;
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& candidates) {
  auto best = did_you_mean(word, candidates);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

MapReader::MapReader(ParseContext& ctx, const YAML::Node& node, std::string path, Position fallback)
    : ctx_(ctx), path_(std::move(path)) {
  pos_ = ParseContext::pos(node);
  if (!pos_.line) pos_ = fallback;
  if (!node.IsDefined() || node.IsNull()) {
    is_map_ = true;  // absent = empty
    return;
  }
  if (!node.IsMap()) {
    ctx_.error(pos_, (path_.empty() ? std::string("the file") : path_) + ": expected a map, got " + kind_name(node));
    finished_ = true;
    return;
  }
  is_map_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Entry e;
    e.key_pos = ParseContext::pos(it->first);
    if (!it->first.IsScalar()) {
      ctx_.error(e.key_pos.line ? e.key_pos : pos_, field("?") + ": keys must be scalars");
      continue;
    }
    e.key = it->first.Scalar();
    e.value = it->second;
    e.value_pos = ParseContext::pos(it->second);
    if (!e.value_pos.line) e.value_pos = e.key_pos;
    bool dup = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& o) { return o.key == e.key; });
    if (dup) {
      ctx_.error(e.key_pos, "duplicate key '" + e.key + "'" + (path_.empty() ? "" : " in " + path_));
      continue;
    }
    entries_.push_back(std::move(e));
  }
}

std::string MapReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const MapReader::Entry* MapReader::get(std::string_view key) {
  known_.emplace(key);
  for (const auto& e : entries_)
    if (e.key == key) return e.value.IsNull() ? nullptr : &e;
  return nullptr;
}

const std::vector<MapReader::Entry>& MapReader::entries() {
  for (const auto& e : entries_) known_.insert(e.key);
  return entries_;
}

bool MapReader::str(std::string_view key, std::string& out) {
  const Entry* e = get(key);
  if (!e) return false;
  auto v = ctx_.scalar(e->value, e->value_pos, field(key));
  if (!v) return false;
  out = std::move(*v);
  return true;
}

bool MapReader::integer(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  const Entry* e = get(key);
  if (!e) return false;
  bool from_env = false;
  auto v = ctx_.scalar(e->value, e->value_pos, field(key), &from_env);
  if (!v) return false;
  auto n = parse_int(*v);
  if (!n) {
    ctx_.error(e->value_pos, field(key) + ": expected an integer" + (from_env ? "" : ", got " + quote(*v)));
    return false;
  }
  if (*n < min || *n > max) {
    std::string range = max == std::numeric_limits<int64_t>::max() || max == std::numeric_limits<int>::max()
                            ? ">= " + std::to_string(min)
                            : "between " + std::to_string(min) + " and " + std::to_string(max);
    ctx_.error(e->value_pos, field(key) + ": must be " + range + (from_env ? "" : ", got " + *v));
    return false;
  }
  out = *n;
  return true;
}

bool MapReader::integer(std::string_view key, int& out, int64_t min, int64_t max) {
  int64_t v = out;
  if (!integer(key, v, std::max<int64_t>(min, std::numeric_limits<int>::min()),
               std::min<int64_t>(max, std::numeric_limits<int>::max())))
    return false;
  out = static_cast<int>(v);
  return true;
}

bool MapReader::number(std::string_view key, double& out, double min, double max) {
  const Entry* e = get(key);
  if (!e) return false;
  bool from_env = false;
  auto v = ctx_.scalar(e->value, e->value_pos, field(key), &from_env);
  if (!v) return false;
  auto n = parse_double(*v);
  if (!n) {
    ctx_.error(e->value_pos, field(key) + ": expected a number" + (from_env ? "" : ", got " + quote(*v)));
    return false;
  }
  if (*n < min || *n > max) {
    auto fmt = [](double d) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", d);
      return std::string(buf);
    };
    std::string range = std::isinf(max) ? ">= " + fmt(min) : "between " + fmt(min) + " and " + fmt(max);
    ctx_.error(e->value_pos, field(key) + ": must be " + range);
    return false;
  }
  out = *n;
  return true;
}

bool MapReader::boolean(std::string_view key, bool& out) {
  const Entry* e = get(key);
  if (!e) return false;
  bool from_env = false;
  auto v = ctx_.scalar(e->value, e->value_pos, field(key), &from_env);
  if (!v) return false;
  auto b = parse_bool(*v);
  if (!b) {
    ctx_.error(e->value_pos, field(key) + ": expected true or false" + (from_env ? "" : ", got " + quote(*v)));
    return false;
  }
  out = *b;
  return true;
}

bool MapReader::str_list(std::string_view key, std::vector<std::string>& out, std::vector<Position>* positions) {
  const Entry* e = get(key);
  if (!e) return false;
  auto items = sequence_items(ctx_, e->value, field(key), e->value_pos);
  std::vector<std::string> result;
  std::vector<Position> pos;
  bool ok = true;
  size_t i = 0;
  for (const auto& [node, p] : items) {
    auto v = ctx_.scalar(node, p, field(key) + "[" + std::to_string(i++) + "]");
    if (!v) {
      ok = false;
      continue;
    }
    result.push_back(std::move(*v));
    pos.push_back(p);
  }
  if (!ok || (!e->value.IsSequence())) return false;
  out = std::move(result);
  if (positions) *positions = std::move(pos);
  return true;
}

bool MapReader::num_list(std::string_view key, std::vector<double>& out, double min, double max) {
  const Entry* e = get(key);
  if (!e) return false;
  auto items = sequence_items(ctx_, e->value, field(key), e->value_pos);
  std::vector<double> result;
  bool ok = e->value.IsSequence();
  size_t i = 0;
  for (const auto& [node, p] : items) {
    std::string name = field(key) + "[" + std::to_string(i++) + "]";
    auto v = ctx_.scalar(node, p, name);
    if (!v) {
      ok = false;
      continue;
    }
    auto d = parse_double(*v);
    if (!d || *d < min || *d > max) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ": expected a number between %g and %g", min, max);
      ctx_.error(p, name + buf);
      ok = false;
      continue;
    }
    result.push_back(*d);
  }
  if (!ok) return false;
  out = std::move(result);
  return true;
}

bool MapReader::str_map(std::string_view key, std::map<std::string, std::string>& out) {
  const Entry* e = get(key);
  if (!e) return false;
  MapReader sub(ctx_, e->value, field(key), e->value_pos);
  if (!sub.is_map() || !e->value.IsMap()) return false;
  std::map<std::string, std::string> result;
  bool ok = true;
  for (const auto& entry : sub.entries()) {
    auto v = ctx_.scalar(entry.value, entry.value_pos, sub.field(entry.key));
    if (!v) {
      ok = false;
      continue;
    }
    result[entry.key] = std::move(*v);
  }
  if (!ok) return false;
  out = std::move(result);
  return true;
}

bool MapReader::json(std::string_view key, std::string& out) {
  const Entry* e = get(key);
  if (!e) return false;
  auto v = ctx_.to_json(e->value, e->value_pos, field(key));
  if (!v) return false;
  out = std::move(*v);
  return true;
}

MapReader MapReader::map(std::string_view key) {
  known_.emplace(key);
  for (const auto& e : entries_)
    if (e.key == key) return MapReader(ctx_, e.value, field(key), e.value_pos);
  return MapReader(ctx_, YAML::Node(), field(key), pos_);
}

void MapReader::finish() {
  if (finished_) return;
  finished_ = true;
  std::vector<std::string> known(known_.begin(), known_.end());
  for (const auto& e : entries_) {
    if (known_.count(e.key)) continue;
    ctx_.error(e.key_pos, "unknown key '" + e.key + "'" + (path_.empty() ? "" : " in " + path_) +
                              did_you_mean_suffix(e.key, known));
  }
}

std::vector<std::pair<YAML::Node, Position>> sequence_items(ParseContext& ctx, const YAML::Node& node,
                                                            const std::string& what, Position fallback) {
  std::vector<std::pair<YAML::Node, Position>> items;
  if (!node.IsDefined() || node.IsNull()) return items;
  if (!node.IsSequence()) {
    Position p = ParseContext::pos(node);
    ctx.error(p.line ? p : fallback, what + ": expected a list, got " + kind_name(node));
    return items;
  }
  Position last = ParseContext::pos(node).line ? ParseContext::pos(node) : fallback;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Position p = ParseContext::pos(*it);
    if (!p.line) p = last;
    last = p;
    items.emplace_back(*it, p);
  }
  return items;
}

}  // namespace warden::config
