#include <catch2/catch.hpp>

#include <stdexcept>

#include "warden/common/cli_args.hpp"

using warden::CliArgs;

TEST_CASE("cli args: values, inline values, flags and positionals") {
  CliArgs a({"verify", "--model", "dir", "--ids=1,2", "--json", "x"}, {"model", "ids"}, {"json"});
  CHECK(a.get("model") == "dir");
  CHECK(a.get("ids") == "1,2");
  CHECK(a.flag("json"));
  CHECK_FALSE(a.get("missing").has_value());
  CHECK(a.get_or("missing", "d") == "d");
  REQUIRE(a.positionals().size() == 2);
  CHECK(a.positionals()[0] == "verify");
  CHECK(a.positionals()[1] == "x");
}

TEST_CASE("cli args: unknown options and missing values are errors") {
  CHECK_THROWS_AS(CliArgs({"--nope"}, {"model"}), std::invalid_argument);
  CHECK_THROWS_AS(CliArgs({"--model"}, {"model"}), std::invalid_argument);
  CHECK_THROWS_AS(CliArgs({"--json=1"}, {}, {"json"}), std::invalid_argument);
}
