#pragma once
// Where cove-sync is in the journal.
//
// Two records of the same fact, written in this order after every batch:
//   1. the branch moves to the batch's last commit, whose message carries the trailer
//      `Cove-Journal-Seq: N` (committer.h): atomic with the commit itself;
//   2. <state-dir>/cursor.json {"seq":N,"syncId":...,"head":...} is replaced (write + rename),
//      also when a batch changed nothing, or when its commits left the branch (conflict).
// On start the cursor is the larger of the two: a kill -9 between 1 and 2 loses nothing (the
// trailer is ahead), and a kill -9 before 1 makes the batch's records come back from the
// journal and be committed then. Records past the cursor are read again after a crash, but a
// path whose content is already in the branch's tree commits nothing, so each change ends up
// in exactly one commit.

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace covesync {

struct Cursor {
  uint64_t seq = 0;
  std::string head;  ///< the branch tip when it was written (informational)
};

std::string cursor_path(const std::string& state_dir);

/// nullopt when there is no cursor file yet; an error when it exists but cannot be read.
[[nodiscard]] base::Result<std::optional<Cursor>> load_cursor(const std::string& state_dir);

/// Replaces the cursor file atomically (creating the state directory).
[[nodiscard]] base::Result<void> save_cursor(const std::string& state_dir, const Cursor& cursor,
                                             const std::string& sync_id);

}  // namespace covesync
