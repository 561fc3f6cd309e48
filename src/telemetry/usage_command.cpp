// `warden usage report --by team|key|model|alias [--from DATE] [--to DATE]
//  [--format table|csv|json] [--state-dir DIR | -c CONFIG]`: chargeback totals from the
// usage ledger (state_dir/usage.db). Dates are UTC; a plain date as --to includes that day.
#include <cstdio>
#include <stdexcept>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/config/config.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

namespace warden::cli {

namespace {

constexpr const char* kUsage =
    "usage: warden usage report [--by team|key|model|alias] [--from DATE] [--to DATE]\n"
    "                           [--format table|csv|json] [--state-dir DIR | -c CONFIG]\n"
    "  DATE: YYYY-MM-DD (UTC; --to includes that day), YYYY-MM-DDTHH:MM:SSZ, or unix ms.\n"
    "  Defaults: --by team, all time, --format table, state dir ./var.\n";

}  // namespace

int usage(const Args& args) {
  try {
    Args normalized;
    for (const auto& a : args) normalized.push_back(a == "-c" ? "--config" : a);
    CliArgs cli(normalized, {"by", "from", "to", "format", "state-dir", "config"}, {"help"});
    const auto& pos = cli.positionals();
    if (cli.flag("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (pos.size() != 1 || pos[0] != "report") {
      std::fputs(kUsage, stderr);
      return 2;
    }
    auto by = telemetry::parse_group_by(cli.get_or("by", "team"));
    if (!by) {
      std::fprintf(stderr, "warden usage: --by must be team, key, model or alias\n");
      return 2;
    }
    int64_t from_ms = 0, to_ms = INT64_MAX;
    if (auto f = cli.get("from")) {
      auto v = telemetry::parse_report_time(*f, false);
      if (!v) {
        std::fprintf(stderr, "warden usage: bad --from '%s'\n", f->c_str());
        return 2;
      }
      from_ms = *v;
    }
    if (auto t = cli.get("to")) {
      auto v = telemetry::parse_report_time(*t, true);
      if (!v) {
        std::fprintf(stderr, "warden usage: bad --to '%s'\n", t->c_str());
        return 2;
      }
      to_ms = *v;
    }
    const std::string format = cli.get_or("format", "table");
    if (format != "table" && format != "csv" && format != "json") {
      std::fprintf(stderr, "warden usage: --format must be table, csv or json\n");
      return 2;
    }
    std::string state_dir = cli.get_or("state-dir", "./var");
    if (auto file = cli.get("config"); file && !cli.get("state-dir")) {
      auto loaded = config::load_config(*file);
      if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        return 1;
      }
      state_dir = loaded.config->state_dir;
    }
    auto report = telemetry::usage_report(state_dir, *by, from_ms, to_ms);
    if (!report) {
      std::fprintf(stderr, "warden usage: %s\n", report.error().message.c_str());
      return 1;
    }
    const std::string text = format == "json"  ? telemetry::usage_report_json(*report, *by)
                             : format == "csv" ? telemetry::usage_report_csv(*report, *by)
                                               : telemetry::usage_report_table(*report, *by);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "warden usage: %s\n%s", e.what(), kUsage);
    return 2;
  }
}

}  // namespace warden::cli
