// cove ws mount TEAM: covefs for the team, with the paths of docker/covefs@.service, started in
// the foreground of its own session (so its pidfile names the serving process) and waited for
// until its mount is visible. Waiting needs no polling: /proc/self/mountinfo signals POLLPRI on
// every mount change, and a pidfd becomes readable when covefs exits. A covefs that exits
// before mounting (a second mount of the same team, a bad policy) is reported with its own
// words from its log.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/fd.h"
#include "base/file.h"
#include "policy/policy.h"
#include "tools/cli/mount_probe.h"
#include "tools/cli/process.h"
#include "tools/cli/ws.h"

namespace cli {

namespace {

std::optional<std::string> find_covefs(const std::string& given) {
  if (!given.empty()) {
    return is_executable_file(given) ? std::optional<std::string>(given) : std::nullopt;
  }
  std::string dir = self_dir();
  if (!dir.empty()) {
    // Installed: next to cove. Build tree: tools/cli/cove and fusefs/covefs.
    for (const std::string& c : {dir + "/covefs", dir + "/../../fusefs/covefs"}) {
      if (is_executable_file(c)) {
        return c;
      }
    }
  }
  return find_executable("covefs");
}

std::string dev_at(const std::string& mountpoint) {
  std::vector<MountInfo> mounts = own_mounts();
  const MountInfo* m = mount_at_path(mounts, mountpoint);
  return m != nullptr && m->fstype == "fuse.covefs" ? m->dev : "";
}

std::string log_since(const std::string& log, off_t offset) {
  auto text = base::read_file(log);
  if (!text) {
    return "";
  }
  std::string s = static_cast<size_t>(offset) <= text->size() ? text->substr(static_cast<size_t>(offset)) : *text;
  while (!s.empty() && s.back() == '\n') {
    s.pop_back();
  }
  return s;
}

}  // namespace

int ws_mount(const WsPaths& paths, const WsMountOptions& o, const Io& io) {
  const std::string name = "cove ws mount";
  if (!valid_team_name(o.team)) {
    io.err << name << ": invalid team name \"" << o.team << "\"\n";
    return kExitUsage;
  }
  std::string source = paths.workspace(o.team);
  if (!is_workspace(paths, o.team)) {
    io.err << name << ": no workspace " << source << " (create it: cove ws create " << o.team
           << paths.non_default_flags() << ")\n";
    return kExitUsage;
  }
  auto covefs = find_covefs(o.covefs);
  if (!covefs) {
    io.err << name << ": "
           << (o.covefs.empty() ? "no covefs next to cove or in PATH (name it with --covefs)"
                                : o.covefs + " is not an executable file")
           << '\n';
    return kExitUsage;
  }
  std::string policy_path = o.policy.empty() ? policy::kDefaultPolicyPath : o.policy;
  std::string mountpoint = paths.mountpoint(o.team);
  std::string journal = paths.journal(o.team);
  std::string log = o.log.empty() ? paths.journal_root + "/" + o.team + ".covefs.log" : o.log;
  for (const auto& dir : {paths.mounts_root, paths.journal_root}) {
    if (auto r = base::make_dirs(dir, 0755); !r) {
      io.err << name << ": " << r.error().message() << '\n';
      return kExitFindings;
    }
  }
  // The mountpoint itself may be a dead mount (ENOTCONN), which covefs recovers: create it only
  // when nothing is there.
  struct stat st {};
  if (::lstat(mountpoint.c_str(), &st) != 0 && errno == ENOENT && ::mkdir(mountpoint.c_str(), 0755) != 0) {
    io.err << name << ": mkdir " << mountpoint << ": " << std::strerror(errno) << '\n';
    return kExitFindings;
  }
  std::string canonical = canonical_parent_path(mountpoint);

  std::vector<std::string> argv = {*covefs,    "-f",         "--team",  o.team,  "--source", source,
                                   "--mountpoint", mountpoint, "--journal", journal, "--policy", policy_path};
  if (!o.state_dir.empty()) {
    argv.insert(argv.end(), {"--state-dir", o.state_dir});
  }
  if (!o.journal_group.empty()) {
    argv.insert(argv.end(), {"--journal-group", o.journal_group});
  }
  if (!o.owner.empty()) {
    argv.insert(argv.end(), {"--owner", o.owner});
  }
  off_t offset = ::stat(log.c_str(), &st) == 0 ? st.st_size : 0;
  base::Fd mountinfo(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  auto pid = spawn_detached(argv, log);
  if (!pid) {
    io.err << name << ": " << pid.error().message() << '\n';
    return kExitFindings;
  }
  base::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  auto start = std::chrono::steady_clock::now();
  std::string dev;
  bool exited = false;
  int status = 0;
  std::string pidfile = paths.pidfile(o.team);
  bool mounted = false;
  for (;;) {
    // Ours once covefs is the visible mount and its pidfile (written right after the mount)
    // names the process we started. The device number alone cannot tell: a recovered dead
    // mount's anonymous device may be handed to the new mount.
    dev = dev_at(canonical);
    bool ours = false;
    if (!dev.empty()) {
      auto text = base::read_file(pidfile);
      ours = text && std::atol(text->c_str()) == *pid;
    }
    if (ours) {
      mounted = true;
      break;
    }
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      exited = true;
      break;
    }
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (spent >= o.timeout_ms) {
      break;
    }
    int left = static_cast<int>(o.timeout_ms - spent);
    pollfd fds[2] = {{mountinfo.get(), POLLPRI, 0}, {pidfd.get(), POLLIN, 0}};
    // Without a pidfd (Linux < 5.3) or a pollable mountinfo, look again every 50 ms.
    // The mount is there but not its pidfile yet: a few ms.
    int wait = pidfd.get() < 0 || mountinfo.get() < 0 ? std::min(left, 50) : !dev.empty() ? std::min(left, 10) : left;
    int n = ::poll(fds, 2, wait);
    if (n > 0 && (fds[0].revents & (POLLPRI | POLLERR)) != 0) {
      // Re-arm: the event is consumed by reading the file from the start.
      char buf[4096];
      ::lseek(mountinfo.get(), 0, SEEK_SET);
      while (::read(mountinfo.get(), buf, sizeof buf) > 0) {
      }
    }
  }
  if (exited) {
    std::string words = log_since(log, offset);
    io.err << name << ": covefs exited " << (WIFEXITED(status) ? fmt::format("with status {}", WEXITSTATUS(status))
                                                                : fmt::format("on signal {}", WTERMSIG(status)))
           << " without mounting " << mountpoint << (words.empty() ? "" : ":\n" + words) << '\n';
    return kExitFindings;
  }
  if (!mounted) {
    ::kill(*pid, SIGTERM);
    io.err << name << ": covefs (pid " << *pid << ") did not mount " << mountpoint << " within " << o.timeout_ms
           << " ms; stopped it. Its log: " << log << '\n';
    return kExitFindings;
  }
  if (o.json) {
    Json j;
    j["team"] = o.team;
    j["source"] = source;
    j["mountpoint"] = mountpoint;
    j["pid"] = *pid;
    j["journal"] = journal;
    j["log"] = log;
    j["covefs"] = *covefs;
    io.out << j.dump(2) << '\n';
  } else {
    io.out << fmt::format("mounted workspace {} at {} (covefs pid {}, journal {}, log {})\n", o.team, mountpoint, *pid,
                          journal, log);
  }
  return kExitOk;
}

}  // namespace cli
