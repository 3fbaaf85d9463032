#include "base/log.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/time.h"

namespace base {

std::string format_log_line(LogFormat format, std::string_view level, std::string_view msg) {
  std::string time = now_rfc3339();
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["level"] = level;
    j["msg"] = msg;
    j["time"] = time;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // logrus text: quote the message and escape quotes and backslashes.
  std::string quoted;
  for (char c : msg) {
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
    }
    quoted.push_back(c == '\n' ? ' ' : c);
  }
  return "time=\"" + time + "\" level=" + std::string(level) + " msg=\"" + quoted + "\"";
}

void log_error(const std::string& log_path, LogFormat format, std::string_view msg) {
  std::string line = format_log_line(format, "error", msg);
  if (!log_path.empty() && append_line(log_path, line)) {
    return;
  }
  line.push_back('\n');
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace base
