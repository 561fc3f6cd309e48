#pragma once
// What of an upstream's error a caller may see. Upstream bodies are not trusted: one that
// echoes request headers would hand the provider key to the caller. Thread-safe.
#include "warden/common/error.hpp"

namespace warden::config {
struct Config;
}

namespace warden::providers {

// Keeps the status; the message loses every configured provider secret (api_key and
// header values of every provider in `cfg`), bearer tokens and long credential-like
// runs, control characters, and everything past 512 bytes; code/type/param survive only
// as short identifiers. Idempotent, so every door to the caller may apply it.
Error caller_safe(Error e, const config::Config& cfg);

}  // namespace warden::providers
