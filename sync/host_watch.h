#pragma once
// Edits made on the host outside FUSE (an editor on the backing directory, a script run by an
// operator) are not in the journal. An inotify watch on every directory of the working tree
// catches them; the journal stays the source of truth for what containers do (inotify loses
// events under load and says nothing about who made a change).
//
// covefs's own writes land in the same directories and are reported here too, as are the
// files cove-sync writes itself when it merges. Both are harmless: the daemon drops a host path
// that the journal also names, and a path whose content already equals the branch's tree
// commits nothing.
//
// Directories are opened one component at a time with O_NOFOLLOW and watched through
// /proc/self/fd, so a symlink swapped in by an agent never redirects a watch outside the tree.
// .git, the top-level .worktrees, nested repositories and ignored directories are not watched.
// A directory that appears is watched at once and reported `deep`, so files created in it
// before the watch existed are still found. IN_Q_OVERFLOW (the kernel dropped events) is
// reported as `overflow`, which costs one full scan.

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace covesync {

struct HostChange {
  std::string path;
  bool deep = false;
};

struct HostEvents {
  std::vector<HostChange> changes;
  bool overflow = false;
};

class HostWatch {
 public:
  /// True for a directory (relative path) that must not be watched (ignored by .gitignore).
  using SkipDir = std::function<bool(const std::string& rel)>;

  /// Watches every directory under `root`. A full watch table (fs.inotify.max_user_watches) is
  /// logged once and reported by incomplete(); the directories watched so far keep working.
  [[nodiscard]] static base::Result<std::unique_ptr<HostWatch>> open(const std::string& root, SkipDir skip);

  int fd() const { return fd_.get(); }
  /// Reads every queued event (the fd is non-blocking).
  HostEvents drain();
  size_t watches() const { return dirs_.size(); }
  bool incomplete() const { return incomplete_; }

 private:
  HostWatch(base::Fd root, base::Fd fd, SkipDir skip) : root_(std::move(root)), fd_(std::move(fd)), skip_(std::move(skip)) {}
  /// Watches `rel` (opened through `dir_fd`) and every directory below it.
  void watch_tree(int dir_fd, const std::string& rel);
  void watch_path(const std::string& rel);
  void unwatch_prefix(const std::string& rel);
  bool access_time_only(const std::string& rel) const;

  base::Fd root_;
  base::Fd fd_;
  SkipDir skip_;
  std::unordered_map<int, std::string> dirs_;  // wd -> relative directory ("" = root)
  bool incomplete_ = false;
};

}  // namespace covesync
