#pragma once
// /proc/<pid>/mountinfo (proc(5)): one mount per line,
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// id, parent id, st_dev, root of the mount within its filesystem, mount point (relative to the
// process's root), per-mount options, optional fields up to "-", filesystem type, source,
// superblock options. Paths escape space, tab, newline and backslash as octal (\040).

#include <string>
#include <vector>

namespace base {

struct MountInfo {
  std::string dev;  // "major:minor"
  std::string root;
  std::string mount_point;
  std::vector<std::string> options;  // per-mount: rw/ro, nosuid, ...
  std::string fstype;
  std::string source;
  std::vector<std::string> super_options;

  bool read_only() const;
};

/// Every well-formed line of `text`, in order (a later mount on the same point covers an
/// earlier one).
std::vector<MountInfo> parse_mountinfo(const std::string& text);

}  // namespace base
