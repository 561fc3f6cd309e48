#pragma once
// Cost in USD from `pricing:` (USD per 1M tokens: input cache hit / cache miss / output,
// optional off-peak prices outside `peak_windows`, "HH:MM-HH:MM" UTC, daily).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "warden/api/stream_event.hpp"
#include "warden/config/policy.hpp"

namespace warden::config {
struct Config;
}

namespace warden::policy {

// The price entry for a target ("provider/model" or "model"), or for a bare model id.
const config::ModelPrice* price_for(const config::Config& cfg, std::string_view target);

// The price set in force at `when` (off-peak outside the peak windows when configured).
const config::PriceSet& prices_at(const config::ModelPrice& price, std::chrono::system_clock::time_point when);

double cost_usd(const config::PriceSet& p, const api::Usage& usage);
double cost_usd(const config::Config& cfg, std::string_view target, const api::Usage& usage,
                std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

// Highest cost any target of `alias` (and its fallbacks) could charge for `prompt_tokens`
// in and `max_tokens` out, at the dearer of peak and off-peak. 0 when none is priced.
double worst_case_usd(const config::Config& cfg, const std::string& alias, int64_t prompt_tokens,
                      int64_t max_tokens);

// "HH:MM-HH:MM" (may wrap midnight) contains the UTC time of day `minute_of_day`.
bool in_window(std::string_view window, int minute_of_day);

}  // namespace warden::policy
