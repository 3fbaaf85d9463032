#pragma once
// Whole-file reads, atomic replacement and append-only logs.

#include <string>
#include <string_view>

#include "base/result.h"

namespace base {

/// Reads a whole file. Errors name the path.
[[nodiscard]] Result<std::string> read_file(const std::string& path);

/// Reads all of an fd (a pipe or stdin) until EOF.
[[nodiscard]] Result<std::string> read_fd(int fd);

/// Replaces `path` with `data` atomically: writes a temp file in the same directory, then renames
/// it over `path`, keeping the old file's mode. With `durable`, fsyncs the file and its directory.
/// Readers see either the old or the new bytes, never a mix.
/// Writes all of `data` to `fd`, retrying short writes and EINTR.
[[nodiscard]] Result<void> write_all(int fd, std::string_view data);

[[nodiscard]] Result<void> write_file_atomic(const std::string& path, std::string_view data,
                                             bool durable = false, unsigned mode = 0644);

/// Appends one line (a '\n' is added) with a single O_APPEND write, so concurrent writers never
/// interleave within a line. Creates the file (and not its directory) with mode 0640.
[[nodiscard]] Result<void> append_line(const std::string& path, std::string_view line);

/// Creates `path` and its parents with `mode` (like mkdir -p).
[[nodiscard]] Result<void> make_dirs(const std::string& path, unsigned mode = 0755);

}  // namespace base
