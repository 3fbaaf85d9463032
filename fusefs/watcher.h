#pragma once
// Keeping the kernel's caches true when the source changes outside FUSE (a host editor, git run
// by cove-sync on the host, another covefs client). Every directory the kernel has looked up
// carries a fanotify inode mark reporting directory entry and attribute events with the parent's
// file handle and the child's name (FAN_REPORT_DFID_NAME, Linux >= 5.9). For each event not
// caused by covefs itself (the event's pid is ours), the watcher invalidates the kernel's dentry
// for that name and, when covefs knows the child, its attributes and cached pages
// (fuse_lowlevel_notify_inval_entry / _inode). That is what lets covefs give the kernel long entry
// and attribute timeouts: a warm `git status` is then answered from the kernel's caches.
//
// Marks are added as directories are looked up and stay until covefs exits (a mark pins its
// inode in the host's inode cache; a workspace has far fewer directories than the default
// fanotify mark limit). Without fanotify (no CAP_SYS_ADMIN, old kernel) covefs logs one line
// and callers must use short timeouts.

#include <atomic>
#include <memory>
#include <thread>

#include "base/fd.h"
#include "base/result.h"
#include "fusefs/inode_table.h"

struct fuse_session;

namespace fusefs {

class Watcher {
 public:
  static base::Result<std::unique_ptr<Watcher>> create(InodeTable& inodes);
  ~Watcher();

  /// Marks the directory open as `opath_fd` (called for every directory inode added).
  void watch_dir(int opath_fd);
  /// Starts delivering invalidations to `se`.
  void start(fuse_session* se);
  void stop();
  uint64_t invalidations() const { return invalidations_.load(); }

 private:
  explicit Watcher(InodeTable& inodes) : inodes_(inodes) {}
  void run();

  InodeTable& inodes_;
  base::Fd fan_;
  base::Fd stop_fd_;  // eventfd that ends run()
  fuse_session* se_ = nullptr;
  std::thread thread_;
  std::atomic<uint64_t> invalidations_{0};
};

}  // namespace fusefs
