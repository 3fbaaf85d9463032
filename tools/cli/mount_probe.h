#pragma once
// Is a FUSE mount there, and does its daemon answer? A covefs that was killed leaves a mount
// whose every request fails with ENOTCONN; a covefs that is stopped or deadlocked leaves one
// where a request never returns, and a stat() of it hangs the caller for ever. So the probe
// runs in a forked child that the parent waits for with a deadline and kills (SIGKILL ends a
// task blocked on a FUSE request) when it is not done in time.
//
// The probe is statfs(2): the kernel sends FUSE_STATFS to the daemon every time (there is no
// statfs cache), while stat() may be answered from the attribute cache of a dead mount.

#include <optional>
#include <string>
#include <vector>

#include "tools/cli/mountinfo.h"

namespace cli {

/// The visible mount at `mount_point` (the last one mounted there) within `mounts`, or null.
const MountInfo* mount_at_path(const std::vector<MountInfo>& mounts, const std::string& mount_point);

/// The mounts of this process (/proc/self/mountinfo).
std::vector<MountInfo> own_mounts();

enum class ProbeState { kAnswering, kNotConnected, kTimeout, kError };

const char* probe_state_name(ProbeState s);

struct ProbeResult {
  ProbeState state = ProbeState::kError;
  int err = 0;  ///< errno of the failed statfs (kNotConnected, kError)
  long elapsed_ms = 0;
};

/// statfs(`path`) in a child process, waited for at most `timeout_ms`.
ProbeResult probe_mount(const std::string& path, int timeout_ms);

/// "answering", "not answering: ENOTCONN (its daemon is gone)", "not answering within 2000 ms".
std::string describe(const ProbeResult& r, int timeout_ms);

}  // namespace cli
