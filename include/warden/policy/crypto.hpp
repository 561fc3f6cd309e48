#pragma once
// Small hashing helpers the policy filters and the audit log share (OpenSSL underneath).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden::policy {

std::array<uint8_t, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::array<uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string to_hex(const uint8_t* data, size_t n);
// base64url without padding: only [A-Za-z0-9_-].
std::string base64url(const uint8_t* data, size_t n);
// Cryptographically random bytes (RAND_bytes).
std::string random_bytes(size_t n);

// Compares without an early exit, so the time taken does not reveal the common prefix.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace warden::policy
