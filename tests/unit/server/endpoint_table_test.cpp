// EndpointTable: exact paths win over prefix entries, the longest prefix owns a path,
// and `path_known` tells 405 (path served, other method) from 404.
#include <catch2/catch.hpp>

#include "warden/server/endpoint_table.hpp"

using warden::server::EndpointTable;
using warden::server::Exchange;
using warden::server::Handler;

namespace {
// Handlers are told apart by identity; they never run here.
Handler tagged() {
  return [](Exchange&, std::shared_ptr<const warden::config::Config>) -> boost::asio::awaitable<void> { co_return; };
}
}  // namespace

TEST_CASE("endpoint table: exact paths and prefix entries") {
  EndpointTable t;
  t.add("GET", "/admin/keys", tagged());
  t.add("POST", "/admin/keys", tagged());
  t.add_prefix("GET", "/admin/keys/", tagged());
  t.add_prefix("DELETE", "/admin/keys/", tagged());
  t.add_prefix("GET", "/admin/keys/special/", tagged());

  bool known = false;
  const Handler* list = t.find("GET", "/admin/keys", &known);
  REQUIRE(list != nullptr);
  CHECK(known);

  const Handler* by_id = t.find("GET", "/admin/keys/vk_1", &known);
  REQUIRE(by_id != nullptr);
  CHECK(by_id != list);
  CHECK(t.find("DELETE", "/admin/keys/vk_1") != nullptr);
  CHECK(t.find("DELETE", "/admin/keys/vk_1") != by_id);

  // The prefix itself is not a parameterised path.
  CHECK(t.find("GET", "/admin/keys/", &known) == nullptr);
  CHECK_FALSE(known);

  // Method not served under a known prefix: 405, not 404.
  CHECK(t.find("PUT", "/admin/keys/vk_1", &known) == nullptr);
  CHECK(known);

  // The longer prefix owns its paths: DELETE is not inherited from /admin/keys/.
  const Handler* special = t.find("GET", "/admin/keys/special/x", &known);
  REQUIRE(special != nullptr);
  CHECK(special != by_id);
  CHECK(t.find("DELETE", "/admin/keys/special/x", &known) == nullptr);
  CHECK(known);

  // Unrelated paths stay unknown.
  CHECK(t.find("GET", "/admin/keysx", &known) == nullptr);
  CHECK_FALSE(known);
}

TEST_CASE("endpoint table: exact entries shadow a prefix") {
  EndpointTable t;
  t.add_prefix("GET", "/a/", tagged());
  t.add("POST", "/a/b", tagged());
  bool known = false;
  // /a/b is an exact path served for POST only; the GET prefix does not answer it.
  CHECK(t.find("GET", "/a/b", &known) == nullptr);
  CHECK(known);
  CHECK(t.find("POST", "/a/b") != nullptr);
  CHECK(t.find("GET", "/a/c") != nullptr);
}
