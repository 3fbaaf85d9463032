#pragma once

#include <string>

namespace base {

/// The current time as RFC 3339 with nanoseconds and a UTC offset, as runc's logrus writes it:
/// "2026-11-24T06:17:00.123456789Z".
std::string now_rfc3339();

/// Seconds since the epoch with nanoseconds as a double (for audit queries).
double now_unix();

}  // namespace base
