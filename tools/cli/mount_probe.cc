#include "tools/cli/mount_probe.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "base/fd.h"
#include "base/file.h"
#include "tools/cli/process.h"

namespace cli {

const MountInfo* mount_at_path(const std::vector<MountInfo>& mounts, const std::string& mount_point) {
  const MountInfo* found = nullptr;
  for (const auto& m : mounts) {
    if (m.mount_point == mount_point) {
      found = &m;
    }
  }
  return found;
}

std::vector<MountInfo> own_mounts() {
  auto text = base::read_file("/proc/self/mountinfo");
  return text ? parse_mountinfo(*text) : std::vector<MountInfo>{};
}

const char* probe_state_name(ProbeState s) {
  switch (s) {
    case ProbeState::kAnswering: return "answering";
    case ProbeState::kNotConnected: return "not-connected";
    case ProbeState::kTimeout: return "timeout";
    case ProbeState::kError: return "error";
  }
  return "error";
}

ProbeResult probe_mount(const std::string& path, int timeout_ms) {
  ProbeResult r;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
  };
  const char* cpath = path.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    r.err = errno;
    return r;
  }
  if (pid == 0) {
    // Between fork and _exit only async-signal-safe calls: statfs and _exit. The exit status
    // carries the errno (all errnos fit in 8 bits).
    struct statfs st;
    _exit(::statfs(cpath, &st) == 0 ? 0 : (errno & 0xff));
  }
  int raw = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  base::Fd pidfd(raw);
  int status = 0;
  bool done = false;
  if (pidfd.get() >= 0) {
    pollfd p{pidfd.get(), POLLIN, 0};
    for (;;) {
      int left = timeout_ms - static_cast<int>(elapsed());
      int n = ::poll(&p, 1, left > 0 ? left : 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      done = n > 0;
      break;
    }
  } else {
    // pidfd_open needs Linux 5.3; older kernels get a short sleep loop.
    while (elapsed() < timeout_ms) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        r.elapsed_ms = elapsed();
        r.state = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ProbeState::kAnswering : ProbeState::kError;
        r.err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        if (r.err == ENOTCONN || r.err == ECONNABORTED) {
          r.state = ProbeState::kNotConnected;
        }
        return r;
      }
      ::usleep(10000);
    }
  }
  if (!done) {
    ::kill(pid, SIGKILL);
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.elapsed_ms = elapsed();
  if (!done) {
    r.state = ProbeState::kTimeout;
    return r;
  }
  r.err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  if (WIFEXITED(status) && r.err == 0) {
    r.state = ProbeState::kAnswering;
  } else if (r.err == ENOTCONN || r.err == ECONNABORTED) {
    r.state = ProbeState::kNotConnected;
  } else {
    r.state = ProbeState::kError;
  }
  return r;
}

std::string describe(const ProbeResult& r, int timeout_ms) {
  switch (r.state) {
    case ProbeState::kAnswering: return fmt::format("answering ({} ms)", r.elapsed_ms);
    case ProbeState::kNotConnected:
      return fmt::format("not answering: {} (its daemon is gone)", std::strerror(r.err));
    case ProbeState::kTimeout: return fmt::format("not answering within {} ms (its daemon is stopped or hung)", timeout_ms);
    case ProbeState::kError:
      return r.err != 0 ? fmt::format("not answering: statfs failed: {}", std::strerror(r.err)) : "probe failed";
  }
  return "probe failed";
}

}  // namespace cli
