#pragma once
// Maps (method, exact path) to a handler. Built once at start-up by `serve`, read-only after.
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
  // nullptr when nothing matches; `path_known` tells 405 from 404.
  const Handler* find(std::string_view method, std::string_view path, bool* path_known = nullptr) const {
    bool known = false;
    const Handler* hit = nullptr;
    for (const auto& [key, handler] : table_) {
      if (key.second != path) continue;
      known = true;
      if (key.first == method) hit = &handler;
    }
    if (path_known) *path_known = known;
    return hit;
  }

 private:
  std::map<std::pair<std::string, std::string>, Handler> table_;
};

}  // namespace warden::server
