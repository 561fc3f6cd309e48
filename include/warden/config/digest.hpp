#pragma once
// SHA-256 (OpenSSL) for key hashes: config `keys:` store sha256 hex, auth hashes the
// presented key and compares. Thread-safe.
#include <string>
#include <string_view>

namespace warden::config {

std::string sha256_hex(std::string_view data);  // lower-case hex, 64 chars
// Constant-time comparison of equal-length strings (false when lengths differ).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace warden::config
