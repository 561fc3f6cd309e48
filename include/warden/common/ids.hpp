#pragma once
// Request ids: accepted from callers when sane, generated otherwise. Stdlib only.
#include <string>
#include <string_view>

namespace warden {

// 1..128 chars of [A-Za-z0-9._-] (safe to log and to echo in a header).
bool is_sane_request_id(std::string_view id);
// 32 lower-case hex chars from a per-thread generator seeded from std::random_device.
std::string new_request_id();
// `prefix` + `length` random [A-Za-z0-9] chars, unique per process (response ids such as
// chatcmpl-… and msg_…).
std::string new_alnum_id(std::string_view prefix, int length = 24);

}  // namespace warden
