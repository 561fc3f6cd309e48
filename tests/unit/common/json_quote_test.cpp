// The common JSON quoting is checked by parsing its output with simdjson: every string
// of bytes (controls, quotes, backslashes, DEL, UTF-8) must come back unchanged.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <random>
#include <string>

#include "warden/common/json_quote.hpp"

namespace {

std::string parsed_back(const std::string& quoted) {
  simdjson::dom::parser parser;
  std::string_view v;
  REQUIRE(parser.parse(quoted).get_string().get(v) == simdjson::SUCCESS);
  return std::string(v);
}

}  // namespace

TEST_CASE("json quoting: every ASCII byte, alone and in runs, round-trips through a JSON parser") {
  for (int c = 0; c < 128; ++c) {
    const std::string s = "ab" + std::string(1, static_cast<char>(c)) + "cd";
    CHECK(parsed_back(warden::json_quoted(s)) == s);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string s;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) s += static_cast<char>(rng() % 128);
    if (round % 3 == 0) s += "\xc3\xa9\xe2\x82\xac";  // multi-byte UTF-8 passes through as is
    const std::string q = warden::json_quoted(s);
    CHECK(parsed_back(q) == s);
    for (char ch : q) CHECK(static_cast<unsigned char>(ch) >= 0x20);  // no raw control bytes
  }
}
