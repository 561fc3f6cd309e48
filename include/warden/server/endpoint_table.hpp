#pragma once
// Maps (method, exact path) to a handler. Built once at start-up by `serve`, read-only after.
// Prefix entries (add_prefix) serve paths with a parameter, e.g. /admin/keys/{id}: they are
// tried only when no exact path matches, longest prefix first.
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "warden/server/exchange.hpp"

namespace warden::server {

class EndpointTable {
 public:
  void add(std::string method, std::string path, Handler handler) {
    table_[{std::move(method), std::move(path)}] = std::move(handler);
  }
  // Every path that starts with `prefix` and is longer than it (e.g. "/admin/keys/" for
  // /admin/keys/{id}...); the handler reads the rest from Exchange::path().
  void add_prefix(std::string method, std::string prefix, Handler handler) {
    prefixes_[{std::move(method), std::move(prefix)}] = std::move(handler);
  }
  // nullptr when nothing matches; `path_known` tells 405 from 404.
  const Handler* find(std::string_view method, std::string_view path, bool* path_known = nullptr) const {
    bool known = false;
    const Handler* hit = nullptr;
    for (const auto& [key, handler] : table_) {
      if (key.second != path) continue;
      known = true;
      if (key.first == method) hit = &handler;
    }
    if (!known) {
      size_t best = 0;
      for (const auto& [key, handler] : prefixes_) {
        const std::string& prefix = key.second;
        if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix || prefix.size() < best) continue;
        if (prefix.size() > best) hit = nullptr;  // a longer prefix owns the path
        best = prefix.size();
        known = true;
        if (key.first == method) hit = &handler;
      }
    }
    if (path_known) *path_known = known;
    return hit;
  }

 private:
  std::map<std::pair<std::string, std::string>, Handler> table_;
  std::map<std::pair<std::string, std::string>, Handler> prefixes_;
};

}  // namespace warden::server
