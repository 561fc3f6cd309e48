#pragma once
// Percent-decoding of URL parts for the admin endpoints (path segments, query strings).
#include <optional>
#include <string>
#include <string_view>

namespace warden {

// %XX → byte; nullopt when a '%' is not followed by two hex digits. With plus_is_space
// ('application/x-www-form-urlencoded' query values) '+' becomes ' '.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

// The decoded value of the first `name=` in a query string ("a=1&b=2"); nullopt when the
// name is absent. A value with a malformed escape is returned as written (lenient, like
// most servers) so a typo reaches the caller's own validation with its text intact.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace warden
