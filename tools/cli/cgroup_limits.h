#pragma once
// A process's cgroup limits as the kernel enforces them, cgroup v1 or v2 (or a hybrid host:
// each controller is read from the v1 hierarchy that has it, else from the unified one).
//
//   limit          v1 file                                v2 file
//   memory limit   memory/memory.limit_in_bytes           memory.max
//   reservation    memory/memory.soft_limit_in_bytes      memory.low       (runc's mapping)
//   memory+swap    memory/memory.memsw.limit_in_bytes     memory.max + memory.swap.max
//   pids           pids/pids.max                          pids.max
//   cpu            cpu/cpu.cfs_quota_us, cpu.cfs_period_us   cpu.max ("quota period")
//   OOM killer     memory/memory.oom_control (oom_kill_disable)   (always on)
//
// "Unlimited" (v1's page-counter maximum, -1, v2's "max") is a limit with no value.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/cli/mountinfo.h"

namespace cli {

struct LimitValue {
  bool present = false;          // the file exists and was read
  std::optional<int64_t> value;  // nullopt: unlimited
  std::string file;              // where it was read (or looked for)
};

struct CgroupLimits {
  LimitValue memory_limit;
  LimitValue memory_reservation;
  LimitValue memory_swap;  // memory + swap together, as OCI's linux.resources.memory.swap
  LimitValue pids;
  LimitValue cpu_quota;
  LimitValue cpu_period;
  LimitValue oom_kill_disable;  // v1 only: 1 when the OOM killer is off
};

/// The limits of the process whose /proc/<pid>/cgroup is `proc_cgroup`, found through the
/// cgroup mounts in `mounts` (the reader's own mountinfo).
CgroupLimits read_cgroup_limits(const std::string& proc_cgroup, const std::vector<MountInfo>& mounts);

}  // namespace cli
