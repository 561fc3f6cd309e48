#include "warden/policy/budget/pricing.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "warden/config/config.hpp"

namespace warden::policy {

const config::ModelPrice* price_for(const config::Config& cfg, std::string_view target) {
  if (auto it = cfg.pricing.find(std::string(target)); it != cfg.pricing.end()) return &it->second;
  if (auto slash = target.find('/'); slash != std::string_view::npos) {
    if (auto it = cfg.pricing.find(std::string(target.substr(slash + 1))); it != cfg.pricing.end())
      return &it->second;
  }
  for (const auto& [name, price] : cfg.pricing)
    if (price.model == target) return &price;
  return nullptr;
}

bool in_window(std::string_view window, int minute_of_day) {
  int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
  std::string w(window);
  if (std::sscanf(w.c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4) return false;
  int a = h1 * 60 + m1, b = h2 * 60 + m2;
  if (a <= b) return minute_of_day >= a && minute_of_day < b;
  return minute_of_day >= a || minute_of_day < b;  // wraps midnight
}

const config::PriceSet& prices_at(const config::ModelPrice& price, std::chrono::system_clock::time_point when) {
  if (!price.off_peak || price.peak_windows.empty()) return price.prices;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  int minute = static_cast<int>((secs % 86400) / 60);
  for (const auto& w : price.peak_windows)
    if (in_window(w, minute)) return price.prices;
  return *price.off_peak;
}

double cost_usd(const config::PriceSet& p, const api::Usage& u) {
  int64_t hit = std::clamp<int64_t>(u.cache_hit_tokens, 0, u.prompt_tokens);
  int64_t miss = u.prompt_tokens - hit;
  return (static_cast<double>(hit) * p.input_cache_hit + static_cast<double>(miss) * p.input_cache_miss +
          static_cast<double>(u.completion_tokens) * p.output) /
         1e6;
}

double cost_usd(const config::Config& cfg, std::string_view target, const api::Usage& usage,
                std::chrono::system_clock::time_point when) {
  const auto* price = price_for(cfg, target);
  if (!price) return 0;
  return cost_usd(prices_at(*price, when), usage);
}

namespace {

void collect_targets(const config::Config& cfg, const std::string& alias, std::set<std::string>& seen,
                     std::vector<std::string>& out) {
  if (!seen.insert(alias).second) return;
  const auto* route = cfg.model(alias);
  if (!route) {
    out.push_back(alias);
    return;
  }
  for (const auto& t : route->targets) {
    out.push_back(t.provider + "/" + t.model);
  }
  for (const auto& f : route->fallback) collect_targets(cfg, f, seen, out);
}

}  // namespace

double worst_case_usd(const config::Config& cfg, const std::string& alias, int64_t prompt_tokens,
                      int64_t max_tokens) {
  std::set<std::string> seen;
  std::vector<std::string> targets;
  collect_targets(cfg, alias, seen, targets);
  double worst = 0;
  auto consider = [&](const config::PriceSet& p) {
    double in = std::max(p.input_cache_hit, p.input_cache_miss);
    worst = std::max(worst, (static_cast<double>(prompt_tokens) * in + static_cast<double>(max_tokens) * p.output) / 1e6);
  };
  for (const auto& t : targets) {
    const auto* price = price_for(cfg, t);
    if (!price) continue;
    consider(price->prices);
    if (price->off_peak) consider(*price->off_peak);
  }
  return worst;
}

}  // namespace warden::policy
