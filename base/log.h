#pragma once
// Messages for the user go to runc's `--log` file in runc's own format, because that is where
// Docker and containerd look when a runtime exits non-zero. Only errors are written there.

#include <string>
#include <string_view>

namespace base {

enum class LogFormat { kText, kJson };

/// One runc-style log line: JSON `{"level":"error","msg":...,"time":...}` or logrus text
/// `time="..." level=error msg="..."`.
std::string format_log_line(LogFormat format, std::string_view level, std::string_view msg);

/// Appends an error line to `log_path`, or writes it to stderr when `log_path` is empty or cannot
/// be opened (the message must reach someone).
void log_error(const std::string& log_path, LogFormat format, std::string_view msg);

}  // namespace base
