#pragma once
// Child processes for `cove doctor` and `cove ws`: short commands whose output is read (git,
// `runc --version`), daemons started detached (covefs), executables looked up like a shell
// does, and "is pid N still the program it was". Every wait has a deadline: a command that hangs
// is killed, never waited for forever.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace cli {

struct ProcessResult {
  int exit_code = -1;      ///< the exit status, or -1 when killed by a signal / the deadline
  bool timed_out = false;  ///< killed (SIGKILL) at the deadline
  std::string out;
  std::string err;
};

/// Runs argv[0] (looked up in PATH when it has no '/') with stdin /dev/null, collects stdout and
/// stderr, and waits at most `timeout_ms`. `cwd` empty: the current directory. An error only
/// when the program could not be started.
[[nodiscard]] base::Result<ProcessResult> run_process(const std::vector<std::string>& argv, int timeout_ms,
                                                      const std::string& cwd = "");

/// Starts argv[0] in a new session (it survives cove and its terminal), stdin /dev/null, stdout
/// and stderr appended to `log_path`. Returns its pid; the caller reaps it if it exits while
/// cove still runs.
[[nodiscard]] base::Result<pid_t> spawn_detached(const std::vector<std::string>& argv, const std::string& log_path);

/// The executable `name` would run as: itself when it contains a '/', else the first
/// executable regular file in $PATH (default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).
std::optional<std::string> find_executable(const std::string& name);

/// True if `path` is a regular file executable by someone.
bool is_executable_file(const std::string& path);

/// The directory of the running cove binary (/proc/self/exe), "" if unknown.
std::string self_dir();

/// True if `pid` is alive (not a zombie) and its /proc/<pid>/comm is `comm` (empty: any).
bool process_alive(pid_t pid, const std::string& comm = "");

/// A file-system path of the same place without resolving its last component: the parent is
/// made canonical (realpath) and the name appended. Never touches `path` itself, which may be a
/// dead FUSE mount whose lookup hangs.
std::string canonical_parent_path(const std::string& path);

}  // namespace cli
