#include "sync/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "base/log.h"

namespace covesync {

namespace {
std::atomic<bool> g_quiet{false};
}

void set_quiet(bool quiet) { g_quiet = quiet; }

void log_line(std::string_view level, std::string_view msg) {
  if (level == "info" && g_quiet) {
    return;
  }
  std::string line = base::format_log_line(base::LogFormat::kJson, level, msg);
  line.push_back('\n');
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace covesync
