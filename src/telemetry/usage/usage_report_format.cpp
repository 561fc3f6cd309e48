// Renderings of a usage report: JSON (admin API, --format json), CSV and an aligned table.
#include <cstdio>

#include "../json_text.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

namespace warden::telemetry {

namespace {

std::string money(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", usd);
  return buf;
}

UsageGroup total_of(const std::vector<UsageGroup>& groups) {
  UsageGroup t;
  t.name = "TOTAL";
  for (const auto& g : groups) {
    t.requests += g.requests;
    t.errors += g.errors;
    t.prompt_tokens += g.prompt_tokens;
    t.cache_hit_tokens += g.cache_hit_tokens;
    t.completion_tokens += g.completion_tokens;
    t.reasoning_tokens += g.reasoning_tokens;
    t.cost_usd += g.cost_usd;
  }
  return t;
}

void append_group_fields(std::string& out, const UsageGroup& g) {
  out += "\"requests\":" + std::to_string(g.requests);
  out += ",\"errors\":" + std::to_string(g.errors);
  out += ",\"prompt_tokens\":" + std::to_string(g.prompt_tokens);
  out += ",\"cache_hit_tokens\":" + std::to_string(g.cache_hit_tokens);
  out += ",\"completion_tokens\":" + std::to_string(g.completion_tokens);
  out += ",\"reasoning_tokens\":" + std::to_string(g.reasoning_tokens);
  out += ",\"cost_usd\":";
  json_text::append_number(out, g.cost_usd);
}

}  // namespace

std::string usage_report_json(const std::vector<UsageGroup>& groups, UsageGroupBy by) {
  std::string out = "{\"by\":\"";
  out += group_by_name(by);
  out += "\",\"groups\":[";
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    json_text::append_string(out, groups[i].name);
    out += ',';
    append_group_fields(out, groups[i]);
    out += '}';
  }
  out += "],\"total\":{";
  append_group_fields(out, total_of(groups));
  out += "}}\n";
  return out;
}

std::string usage_report_csv(const std::vector<UsageGroup>& groups, UsageGroupBy by) {
  std::string out = group_by_name(by);
  out += ",requests,errors,prompt_tokens,cache_hit_tokens,completion_tokens,reasoning_tokens,cost_usd\n";
  for (const auto& g : groups) {
    // Names are ids/aliases; quote anyway so a comma in a team name cannot shift columns.
    out += '"';
    for (char c : g.name) {
      if (c == '"') out += '"';
      out += c;
    }
    out += "\"," + std::to_string(g.requests) + ',' + std::to_string(g.errors) + ',' + std::to_string(g.prompt_tokens) +
           ',' + std::to_string(g.cache_hit_tokens) + ',' + std::to_string(g.completion_tokens) + ',' +
           std::to_string(g.reasoning_tokens) + ',' + money(g.cost_usd) + '\n';
  }
  return out;
}

std::string usage_report_table(const std::vector<UsageGroup>& groups, UsageGroupBy by) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({group_by_name(by), "requests", "errors", "prompt", "cache_hit", "completion", "reasoning", "cost_usd"});
  auto add = [&rows](const UsageGroup& g) {
    rows.push_back({g.name.empty() ? "-" : g.name, std::to_string(g.requests), std::to_string(g.errors),
                    std::to_string(g.prompt_tokens), std::to_string(g.cache_hit_tokens),
                    std::to_string(g.completion_tokens), std::to_string(g.reasoning_tokens), money(g.cost_usd)});
  };
  for (const auto& g : groups) add(g);
  add(total_of(groups));
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k + 1 == rows.size()) {
      for (size_t i = 0; i < width.size(); ++i) out += std::string(width[i], '-') + (i + 1 < width.size() ? "  " : "\n");
    }
    for (size_t i = 0; i < rows[k].size(); ++i) {
      const std::string& cell = rows[k][i];
      if (i == 0) out += cell + std::string(width[i] - cell.size(), ' ');  // names left, numbers right
      else out += std::string(width[i] - cell.size(), ' ') + cell;
      out += i + 1 < rows[k].size() ? "  " : "\n";
    }
  }
  return out;
}

}  // namespace warden::telemetry
