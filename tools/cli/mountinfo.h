#pragma once
// Mounts as /proc/<pid>/mountinfo lists them (the parser is base/mountinfo.h), and where a
// container's mount comes from on the host.

#include <optional>
#include <string>
#include <vector>

#include "base/mountinfo.h"

namespace cli {

using base::MountInfo;
using base::parse_mountinfo;

/// The host path a container's mount shows: the host mount of the same device whose root
/// contains the container mount's root (a bind mount shares both), joined with the rest of the
/// root. nullopt when no host mount has that device (the container's own proc, tmpfs, devpts).
std::optional<std::string> host_path_of(const MountInfo& m, const std::vector<MountInfo>& host);

}  // namespace cli
