#pragma once
// What the kernel says about a running container, for `cove audit live`: its init process's
// /proc/<pid>/status (seccomp mode, no_new_privs, capability sets, ids), its mounts
// (/proc/<pid>/mountinfo), whether it shares the host's namespaces, and its runtime state from
// runc's root (<root>/<id>/state.json). Everything is read under a configurable /proc root so
// that the tests can hand in a fake tree; nothing here decides what is right (audit_live.cc).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tools/cli/cgroup_limits.h"
#include "tools/cli/mountinfo.h"

namespace cli {

struct ProcStatus {
  std::optional<int> seccomp;            // 0 disabled, 1 strict, 2 filter
  std::optional<int> no_new_privs;       // 0 or 1
  std::map<std::string, uint64_t> caps;  // CapInh, CapPrm, CapEff, CapBnd, CapAmb
  std::vector<uint32_t> uids;            // real, effective, saved, filesystem
  std::vector<uint32_t> gids;
  std::vector<uint32_t> groups;
};

/// Parses the text of /proc/<pid>/status (only the fields above).
ProcStatus parse_proc_status(const std::string& text);

enum class RunState { kRunning, kCreated, kStopped, kAbsent };

const char* run_state_name(RunState s);

struct RuntimeState {
  RunState state = RunState::kAbsent;
  int pid = 0;
};

struct ContainerFacts {
  int pid = 0;
  ProcStatus status;
  std::vector<MountInfo> mounts;
  /// "net", "pid", "ipc" -> true if the container's namespace is the host's (PID 1's).
  std::map<std::string, bool> shares_host_ns;
  /// False when the container has a user namespace that maps ids (then uids are not compared).
  bool identity_uid_map = true;
  CgroupLimits cgroup;
};

class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc") : proc_(std::move(proc_root)) {}

  /// The container's state from runc's root: running if <root>/<id>/state.json names an init
  /// process that is still the same process (its start time matches), created if runc's
  /// exec.fifo still waits for `start`.
  RuntimeState runtime_state(const std::string& root, const std::string& id) const;

  /// Everything about the process `pid` that audit live compares; `host_mounts` (read once by
  /// the caller, see host_mounts()) locate its cgroup hierarchies.
  [[nodiscard]] base::Result<ContainerFacts> read(int pid, const std::vector<MountInfo>& host_mounts) const;

  /// The reader's own mounts (the host's, when cove runs on the host): to find cgroup
  /// hierarchies and the host paths behind a container's bind mounts.
  std::vector<MountInfo> host_mounts() const;

 private:
  std::string proc_;
};

}  // namespace cli
