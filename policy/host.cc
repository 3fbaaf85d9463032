#include "policy/host.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <string_view>

namespace policy {

std::string RealHost::canonical(const std::string& path) const {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) {
    return buf;
  }
  return path;
}

bool RealHost::is_mountpoint(const std::string& path) const {
  // statx reports STATX_ATTR_MOUNT_ROOT since Linux 5.8; compare device numbers with the parent
  // otherwise (a bind mount of a directory onto itself has the same device; covefs never does).
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) {
    return false;
  }
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) {
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  struct stat self {}, parent {};
  if (::stat(path.c_str(), &self) != 0 || ::stat((path + "/..").c_str(), &parent) != 0) {
    return false;
  }
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

bool RealHost::is_host_namespace(const std::string& type, const std::string& path) const {
  static constexpr std::pair<std::string_view, std::string_view> kProcName[] = {
      {"network", "net"}, {"pid", "pid"}, {"ipc", "ipc"}, {"uts", "uts"},
      {"mount", "mnt"},   {"user", "user"}, {"cgroup", "cgroup"}};
  std::string proc_name = type;
  for (const auto& [oci, proc] : kProcName) {
    if (oci == type) {
      proc_name = std::string(proc);
    }
  }
  struct stat host {}, other {};
  if (::stat(("/proc/1/ns/" + proc_name).c_str(), &host) != 0) {
    return true;  // cannot tell: fail closed
  }
  if (::stat(path.c_str(), &other) != 0) {
    return false;  // the backend will fail on a missing namespace path anyway
  }
  return host.st_dev == other.st_dev && host.st_ino == other.st_ino;
}

bool RealHost::swap_accounting() const {
  struct stat st {};
  if (::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
    // cgroup v2: the root has no memory.swap.max; any child cgroup with the memory controller does.
    for (const char* p : {"/sys/fs/cgroup/init.scope/memory.swap.max", "/sys/fs/cgroup/system.slice/memory.swap.max",
                          "/sys/fs/cgroup/user.slice/memory.swap.max"}) {
      if (::stat(p, &st) == 0) {
        return true;
      }
    }
    return false;
  }
  return ::stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", &st) == 0;
}

}  // namespace policy
