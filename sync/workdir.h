#pragma once
// The working tree as cove-sync reads it: fd-relative, never following a symlink.
//
// cove-sync runs on the host with more privilege than the agents that write the workspace. If
// it resolved "src/app.ts" as a path string, an agent that replaced `src` by a symlink to /etc
// would make it commit (and push) host files. So every lookup starts at an O_PATH descriptor of
// the workspace root and opens one component at a time with O_NOFOLLOW: a symlink or a
// non-directory in a parent position means the path does not exist for git (git itself refuses
// to add a path "beyond a symbolic link"), and the leaf is lstat'ed, read as a link, or opened
// O_NOFOLLOW|O_NONBLOCK and checked to be a regular file before its bytes are read.
//
// Blobs are the file's bytes as they are on disk: no clean filters, no end-of-line conversion
// (filters can be repository code: `filter.<driver>.clean` runs a program).

#include <git2.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace covesync {

enum class EntryKind { kAbsent, kFile, kSymlink, kDir, kOther };

struct WorkdirStat {
  EntryKind kind = EntryKind::kAbsent;
  bool executable = false;  ///< files: the owner's x bit, as git records it (100755)
};

/// A blob written from the working tree and the tree entry mode it takes.
struct WorkdirBlob {
  git_oid id{};
  git_filemode_t mode = GIT_FILEMODE_BLOB;
};

struct WorkdirDirent {
  std::string name;
  EntryKind kind = EntryKind::kOther;
};

/// True for paths cove-sync may commit: relative, no empty, "." or ".." components, no
/// component named .git (any case: git refuses them on case-insensitive checkouts), and not
/// under the top-level .worktrees/ (session worktrees are repositories of their own).
bool committable_path(std::string_view rel);

class Workdir {
 public:
  /// Opens the working tree root (O_PATH|O_DIRECTORY).
  [[nodiscard]] static base::Result<Workdir> open(const std::string& root);

  const std::string& root() const { return root_; }
  int fd() const { return fd_.get(); }

  /// What `rel` is, never following a symlink; kAbsent also when a parent is not a directory.
  [[nodiscard]] base::Result<WorkdirStat> stat(std::string_view rel) const;

  /// Writes the file or symlink at `rel` into `odb` as a blob (streamed: a file is never held in
  /// memory whole). nullopt when `rel` is absent, a directory or special file by the time it is
  /// opened. A file that keeps changing size while it is read fails with EAGAIN.
  [[nodiscard]] base::Result<std::optional<WorkdirBlob>> write_blob(git_odb* odb, std::string_view rel) const;

  /// The entries of directory `rel` ("" = the root), without "." and "..", sorted by name.
  /// nullopt if `rel` is not a directory.
  [[nodiscard]] base::Result<std::optional<std::vector<WorkdirDirent>>> list(std::string_view rel) const;

 private:
  Workdir(std::string root, base::Fd fd) : root_(std::move(root)), fd_(std::move(fd)) {}

  std::string root_;
  base::Fd fd_;
};

}  // namespace covesync
