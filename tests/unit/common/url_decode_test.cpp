#include <catch2/catch.hpp>

#include "warden/common/url_decode.hpp"

using warden::percent_decode;
using warden::query_param;

TEST_CASE("percent_decode: escapes, plus, malformed") {
  CHECK(percent_decode("a%2Fb%20c") == "a/b c");
  CHECK(percent_decode("%e2%82%AC") == "\xe2\x82\xac");
  CHECK(percent_decode("a+b") == "a+b");              // path segments keep '+'
  CHECK(percent_decode("a+b", true) == "a b");        // query values: '+' is a space
  CHECK_FALSE(percent_decode("50%").has_value());     // '%' without two hex digits
  CHECK_FALSE(percent_decode("%4").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
  CHECK(percent_decode("") == "");
}

TEST_CASE("query_param: first match, absent, empty, malformed kept as written") {
  const std::string_view q = "by=team&from=2026-11-01T00%3A00%3A00Z&to=&by=key&flag&bad=50%";
  CHECK(query_param(q, "by") == "team");
  CHECK(query_param(q, "from") == "2026-11-01T00:00:00Z");
  CHECK(query_param(q, "to") == "");
  CHECK(query_param(q, "flag") == "");
  CHECK(query_param(q, "bad") == "50%");
  CHECK_FALSE(query_param(q, "team").has_value());
  CHECK_FALSE(query_param(q, "b").has_value());       // names match whole, not by prefix
  CHECK_FALSE(query_param("", "by").has_value());
}
