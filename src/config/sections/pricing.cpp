// `pricing:` section: USD per 1M tokens per model id.
#include "sections.hpp"

namespace warden::config::sections {

namespace {

void read_prices(MapReader& m, PriceSet& p) {
  m.number("input_cache_hit", p.input_cache_hit, 0, 1e6);
  m.number("input_cache_miss", p.input_cache_miss, 0, 1e6);
  m.number("output", p.output, 0, 1e6);
}

bool valid_window(std::string_view w) {
  // HH:MM-HH:MM
  if (w.size() != 11 || w[2] != ':' || w[5] != '-' || w[8] != ':') return false;
  auto two = [&](size_t i, int max) {
    if (!std::isdigit(static_cast<unsigned char>(w[i])) || !std::isdigit(static_cast<unsigned char>(w[i + 1]))) return false;
    return (w[i] - '0') * 10 + (w[i + 1] - '0') <= max;
  };
  return two(0, 24) && two(3, 59) && two(6, 24) && two(9, 59);
}

}  // namespace

void parse_pricing(MapReader& root, Config& cfg) {
  auto all = root.map("pricing");
  for (const auto& entry : all.entries()) {
    MapReader m(all.ctx(), entry.value, all.field(entry.key), entry.value_pos);
    ModelPrice price;
    price.model = entry.key;
    price.pos = entry.key_pos;
    read_prices(m, price.prices);
    if (m.has("off_peak")) {
      auto o = m.map("off_peak");
      PriceSet off;
      read_prices(o, off);
      price.off_peak = off;
    }
    std::vector<Position> wpos;
    m.str_list("peak_windows", price.peak_windows, &wpos);
    for (size_t i = 0; i < price.peak_windows.size(); ++i)
      if (!valid_window(price.peak_windows[i]))
        m.ctx().error(wpos[i], m.field("peak_windows") + ": expected \"HH:MM-HH:MM\" (UTC)");
    cfg.pricing[price.model] = std::move(price);
  }
}

}  // namespace warden::config::sections
