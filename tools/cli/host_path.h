#pragma once
// Host paths as the mount rules compare them (policy/mounts.cc does the same for the shim).

#include <string>

#include "base/path.h"

namespace cli {

using base::path_under;

/// /var/run is a symlink to /run on every distribution cove supports, and the shim resolves bind
/// sources through it; rules are compared after the same rewrite.
std::string normalize_host_path(const std::string& p);

}  // namespace cli
