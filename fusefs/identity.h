#pragma once
// Who is calling: FUSE tells us the caller's pid; its cgroup (/proc/<pid>/cgroup) names the
// container, and the records cove-runtime keeps (<stateDir>/containers/*.json) map that cgroup
// to the container's team, role and agent.
//
// A record's cgroupsPath is either a path ("/docker/<id>", "/kubepods/.../<id>"), which is the
// container's cgroup on v1 (per controller) and v2 alike, or systemd's "slice:prefix:name", which
// becomes "/<slices>/<prefix>-<name>.scope". A process in a sub-cgroup of a container (exec
// --cgroup) belongs to it too.
//
// Results are cached per pid for one second: a pid reused by another container within that second
// would be misattributed, which needs the host's pid space to wrap in under a second. Records are
// reloaded when the state directory changes.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/records.h"

namespace fusefs {

struct Caller {
  bool container = false;  // false: a host process (the mount's default view)
  std::string container_id;
  std::string team;
  std::string role;
  std::string agent;
};

/// The cgroup path a record's cgroupsPath denotes ("system.slice:docker:abc" ->
/// "/system.slice/docker-abc.scope").
std::string cgroup_dir_of(const std::string& cgroups_path);

/// The cgroup paths in the text of /proc/<pid>/cgroup (one per hierarchy, v1 and v2).
std::vector<std::string> cgroup_paths(const std::string& proc_cgroup);

class Identifier {
 public:
  explicit Identifier(std::string state_dir);
  /// The caller for `pid`; host processes (and unknown pids) are `container = false`.
  std::shared_ptr<const Caller> identify(pid_t pid);
  /// Identifies from the text of /proc/<pid>/cgroup (for tests).
  std::shared_ptr<const Caller> identify_cgroup(const std::string& proc_cgroup);

 private:
  void reload_if_changed();

  std::string state_dir_;
  std::mutex mu_;  // guards everything below
  struct CacheEntry {
    std::shared_ptr<const Caller> caller;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<pid_t, CacheEntry> cache_;
  std::vector<std::pair<std::string, std::shared_ptr<const Caller>>> by_cgroup_;
  struct timespec dir_mtime_ {};
  std::shared_ptr<const Caller> host_ = std::make_shared<Caller>();
};

}  // namespace fusefs
