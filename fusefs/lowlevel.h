#pragma once
// The FUSE transport on libfuse3's low-level API: decodes requests, calls Filesystem, replies.
// This is the only file that calls fuse_reply_*.

#include <functional>
#include <string>

#include "base/result.h"
#include "fusefs/fs.h"

namespace fusefs {

struct MountOptions {
  std::string mountpoint;
  std::string fsname;       // shown in /proc/mounts
  unsigned max_threads = 16;
  /// Called once the mount is up and requests are about to be served (main uses it to tell the
  /// waiting parent of a detached covefs that the mount is ready).
  std::function<void()> on_ready;
  /// Use kernel FUSE passthrough for file data where the kernel offers it (Linux >= 6.9).
  bool passthrough = true;
};

/// Mounts `fs` at the mountpoint and serves requests until unmounted or signalled (SIGTERM,
/// SIGINT, SIGHUP); then unmounts. A mountpoint that already has a live covefs is refused; one
/// whose covefs died (ENOTCONN) is detached and mounted again.
[[nodiscard]] base::Result<void> serve(Filesystem& fs, const MountOptions& mo);

/// Describes what is mounted at `path`: "" if nothing, else the fstype (e.g. "fuse.covefs").
std::string mounted_fstype(const std::string& path);

}  // namespace fusefs
