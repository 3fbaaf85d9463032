#pragma once
// cove-sync's own log: one JSON line per event on stderr ({"level","msg","time"}), the format of
// base::format_log_line, so journald and `docker logs` keep it machine-readable.

#include <fmt/format.h>

#include <string_view>

namespace covesync {

/// Writes one JSON log line to stderr with a single write(2).
void log_line(std::string_view level, std::string_view msg);

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_line("info", fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  log_line("warning", fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line("error", fmt::format(f, std::forward<Args>(args)...));
}

/// Turns info lines off (tests and benchmarks); warnings and errors are always written.
void set_quiet(bool quiet);

}  // namespace covesync
