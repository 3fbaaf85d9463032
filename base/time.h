#pragma once

#include <cstdint>
#include <string>

namespace base {

/// The current time as RFC 3339 with nanoseconds and a UTC offset, as runc's logrus writes it:
/// "2026-11-24T06:17:00.123456789Z".
std::string now_rfc3339();

/// `ns` nanoseconds since the epoch as RFC 3339 in UTC, with nanoseconds
/// ("2026-11-24T06:17:00.123456789Z") or without ("2026-11-24T06:17:00Z").
std::string rfc3339(int64_t ns, bool nanoseconds = true);

/// Seconds since the epoch with nanoseconds as a double (for audit queries).
double now_unix();

}  // namespace base
