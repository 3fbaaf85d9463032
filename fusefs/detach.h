#pragma once
// Running covefs in the background without -f: fork before anything else, let the parent wait
// until the child has mounted, then exit with the child's verdict.

namespace fusefs {

/// Forks. The parent never returns: it waits until the child calls signal_ready() (exit 0) or
/// exits or dies first (exit 1; the child has printed its error on the shared stderr). The child
/// becomes a session leader and gets the write end of the pipe, to pass to signal_ready().
/// On a fork or pipe failure, prints why and exits 1.
[[nodiscard]] int detach_and_wait();

/// In the child once the mount is up: points stdin, stdout and stderr at /dev/null, then tells
/// the parent. The working directory stays (the mountpoint and pidfile may be relative paths).
void signal_ready(int ready_fd);

}  // namespace fusefs
