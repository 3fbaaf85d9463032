#pragma once
// The change journal: the contract between covefs, which appends a record for every mutating
// operation, and the consumers that follow it with a cursor (cove-sync, `cove watch`,
// `cove fsmonitor`).
//
// On disk
// -------
// A journal is a directory (mode 0700, or 0750 with a readers' group) of segment files plus one
// lock file:
//
//   <dir>/0000000000000001.log    records 1 .. 41234
//   <dir>/000000000000a113.log    records 41235 .. (the current segment)
//   <dir>/writer.lock             flock'ed by the one writer; "running\n" or "stopped\n"
//
// A segment is named after the seq of its first record as 16 lower-case hex digits, so names
// sort like seqs and a reader binary-searches the directory listing for the segment that holds
// any cursor. Segments are append-only. Each record is one line of compact JSON ending in '\n':
//
//   {"seq":12,"t":1732430000123456789,"op":"rename","path":"src/a.ts","path2":"src/b.ts",
//    "container":"3f2a..","agent":"a1","role":"agent"}
//
// (one line on disk). Keys are written in this order, and a reader that only needs the seq
// reads the `{"seq":` prefix without decoding the rest:
//
//   seq        1, 2, 3, ... with no holes across segments; not reused while the directory lives
//              (but see power loss below).
//   t          CLOCK_REALTIME in nanoseconds when the writer took the record (monotonic in seq
//              unless the wall clock is stepped back).
//   op         create write truncate mkdir mknod unlink rmdir rename link symlink chmod chown
//              setxattr removexattr utimens rescan.
//   path       relative to the workspace root, no leading slash; "" is the root itself.
//   path2      rename: the new name of `path`; link: the new link to `path`. Present for those
//              two ops only.
//   container, agent, role
//              who made the change; omitted when empty (host-side or unknown caller).
//
// `rescan` is a marker, not a change: consumers must rescan `path` ("" = the whole workspace)
// because the journal may not describe everything that happened before it. covefs writes one
// when it starts after an unclean stop (JournalWriter::unclean_stop()), and the writer itself
// writes one before the next record after any append failed (see JournalWriter::append).
// Readers ignore keys they do not know; a line with an op they do not know is undecodable and
// counts as a gap (the consumer rescans), so adding an op is safe for old readers.
//
// Strings: JSON strings escape '"', '\\' and bytes below 0x20 (\n \t \r \b \f or \u00XX).
// Valid UTF-8 is written as is. Paths are bytes, not text, so each byte of an invalid UTF-8
// sequence (0x80..0xFF) is written as the lone low surrogate \udcXX — the "surrogateescape"
// convention of PEP 383. decode() maps \udc80..\udcff back to the byte, so every byte string
// without NUL round-trips exactly; Python recovers the bytes with json.loads(line) and
// os.fsencode(s). Parsers that reject lone surrogates (nlohmann::json, serde_json) reject such
// lines: decode journal lines with base::decode.
//
// Writing, crashes and space
// --------------------------
// The writer puts each line into the file with one write() of the whole line under its mutex,
// so a line reaches the page cache whole and survives a kill -9 of the writer; sync() makes
// everything appended so far durable (fdatasync). A crash can still leave a torn last line
// (power loss, or a short write during ENOSPC): readers never return a line without its '\n',
// and the next writer truncates a torn or undecodable tail and continues at the last seq + 1.
// Space for the current segment is preallocated in chunks (fallocate KEEP_SIZE), so running
// out of space fails cleanly before a write; where fallocate is unsupported a short write is
// truncated away again. A failed append consumes no seq (the rescan record owed for it may
// consume one before it fails, as that short line can still fit).
//
// Power loss (not kill -9) loses records that were not yet sync()ed, and the next writer then
// hands their seqs out again. A consumer that persisted a cursor past the durable end would skip
// that many new records; the reader reports `gap` when a cursor is beyond the journal's end, but
// not once the journal has grown past it again, and the rescan record covefs writes after the
// unclean stop falls within the range such a consumer skips. Closing this needs a journal epoch
// or a seq jump after an unclean stop; neither exists yet (the contract is "last seq + 1").
//
// The writer rolls to a new segment when the next line would take the current one past
// segment_bytes (the old segment is fdatasync'ed and the directory fsync'ed at the roll), and
// deletes the oldest segments while the journal holds more than max_bytes (never the current
// segment). A consumer whose cursor falls behind the oldest retained record sees `gap` and must
// rescan. A reader with the deleted segment open finishes it through its descriptor.

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace base {

/// What a record says happened. The names on disk are op_name()'s.
enum class JournalOp : uint8_t {
  create,
  write,
  truncate,
  mkdir,
  mknod,
  unlink,
  rmdir,
  rename,
  link,
  symlink,
  chmod,
  chown,
  setxattr,
  removexattr,
  utimens,
  rescan,
};

/// The on-disk name of an op ("rename").
[[nodiscard]] std::string_view op_name(JournalOp op);
/// The op named `name`, or nullopt for an unknown name.
[[nodiscard]] std::optional<JournalOp> parse_op(std::string_view name);

/// Who made a change; empty fields are omitted from the record.
struct Attribution {
  std::string container;
  std::string agent;
  std::string role;
};

/// One decoded journal line.
struct JournalRecord {
  uint64_t seq = 0;
  int64_t time_ns = 0;
  JournalOp op = JournalOp::rescan;
  std::string path;
  std::string path2;  ///< rename and link only
  std::string container;
  std::string agent;
  std::string role;

  bool operator==(const JournalRecord&) const = default;
};

/// The exact bytes of a record's line, including the trailing '\n'.
[[nodiscard]] std::string encode(const JournalRecord& record);

/// Decodes one line (a trailing '\n' is allowed). Errors say what is wrong and where:
/// "journal record: missing \"op\"", "journal record: unknown op \"frob\"", ...
[[nodiscard]] Result<JournalRecord> decode(std::string_view line);

/// The file name of the segment whose first record is `first_seq`: "000000000000002a.log".
[[nodiscard]] std::string journal_segment_name(uint64_t first_seq);

struct JournalOptions {
  /// The writer deletes the oldest segments while the journal is larger than this.
  uint64_t max_bytes = 256ull << 20;
  /// The writer starts a new segment before a line would take the current one past this.
  uint64_t segment_bytes = 16ull << 20;
  /// Readers' group. Unset: the directory is 0700 and its files 0600 (the writer's user only).
  /// Set: the directory is 0750 and its files 0640, all of this group, so a consumer running as
  /// another user in that group (cove-sync in the sync container) can follow the journal. Applied
  /// to what exists at open and to every new segment.
  std::optional<gid_t> group;
};

/// The single writer of a journal directory (covefs). Thread-safe: every public method may be
/// called from any FUSE worker thread.
class JournalWriter {
 public:
  /// Opens (creating with mode 0700 if needed) the journal in `dir` and takes its writer lock;
  /// fails with EBUSY if another writer holds it. Recovers the last segment: a torn or
  /// undecodable tail is truncated and appends continue at the last seq + 1 (1 in an empty
  /// journal). Enforces max_bytes.
  [[nodiscard]] static Result<std::unique_ptr<JournalWriter>> open(const std::string& dir,
                                                                   JournalOptions options = {});

  /// Makes the journal durable and marks the stop clean.
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Appends one record and returns its seq. `path2` must be non-empty exactly for rename and
  /// link; paths must not start with '/' or contain NUL (EINVAL). On an I/O failure (ENOSPC,
  /// EIO, ...) returns the error, leaves only whole lines in the file, consumes no seq, and
  /// remembers that a change went unrecorded: the next successful append first writes a
  /// `rescan` record (path "") so consumers learn that they missed something. The record is in
  /// the page cache when this returns; call sync() for durability.
  [[nodiscard]] Result<uint64_t> append(JournalOp op, std::string_view path, std::string_view path2,
                                        const Attribution& who);

  /// fdatasyncs what has been appended so far. Does not block appends while the disk works.
  [[nodiscard]] Result<void> sync();

  /// The seq of the last record in the journal (0 if it holds none yet).
  uint64_t last_seq() const { return last_seq_.load(std::memory_order_acquire); }

  /// True when the previous writer did not stop cleanly (crash, kill -9, power loss) or left a
  /// torn line: the journal may lack records of changes that happened, so covefs should append
  /// a `rescan` record before serving requests.
  bool unclean_stop() const { return unclean_stop_; }

  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t first_seq;
    uint64_t bytes;
  };

  JournalWriter(std::string dir, JournalOptions options, Fd dir_fd, Fd lock_fd)
      : dir_(std::move(dir)),
        options_(options),
        dir_fd_(std::move(dir_fd)),
        lock_fd_(std::move(lock_fd)) {}
  [[nodiscard]] Result<void> recover(bool clean_marker);
  [[nodiscard]] Result<uint64_t> write_record_locked(std::string_view body);
  [[nodiscard]] Result<void> open_new_segment_locked(uint64_t first_seq);
  [[nodiscard]] Result<void> roll_locked();
  [[nodiscard]] Result<void> reserve_locked(size_t n);
  void release_prealloc_locked();
  void enforce_retention_locked();

  const std::string dir_;
  const JournalOptions options_;
  const Fd dir_fd_;
  const Fd lock_fd_;  // flock'ed for the writer's lifetime
  bool unclean_stop_ = false;
  bool running_ = false;  // open() finished; the destructor may mark the stop clean

  // mu_ guards everything below. It is a leaf lock: nothing else is taken while it is held,
  // and it is held across the write() of one line (and, once per segment, across the roll's
  // fdatasync), never across sync()'s fdatasync.
  mutable std::mutex mu_;
  std::shared_ptr<Fd> current_;    // shared with sync(), which fdatasyncs outside mu_
  uint64_t current_size_ = 0;      // bytes of whole lines in the current segment
  uint64_t allocated_end_ = 0;     // preallocated up to here (KEEP_SIZE), 0 if unknown
  bool prealloc_ = true;           // false once fallocate says EOPNOTSUPP
  bool truncate_pending_ = false;  // a failed write left bytes past current_size_
  bool rescan_owed_ = false;       // an append failed; write a rescan before the next record
  uint64_t next_seq_ = 1;
  uint64_t total_bytes_ = 0;
  std::deque<Segment> segments_;  // oldest first; back() is the current segment
  std::string line_;              // the line being written (reused, no allocation per append)

  std::atomic<uint64_t> last_seq_{0};
};

/// What read_after returns.
struct JournalBatch {
  /// Records with seq > cursor, in seq order (at most max_records).
  std::vector<JournalRecord> records;
  /// The consumer cannot know everything that changed after its cursor and must rescan: records
  /// after the cursor were deleted by retention (the batch then starts at first_retained), a
  /// record is missing or undecodable, the batch holds a `rescan` record, or the cursor is
  /// beyond the end of the journal (the journal was recreated; the batch starts at its start).
  bool gap = false;
  /// The seq of the oldest record on disk (the next seq to be written if none is).
  uint64_t first_retained = 0;
  /// The seq of the last complete record in the journal when the read ended. When it is greater
  /// than records.back().seq, max_records cut the batch short: call again.
  uint64_t last_seq = 0;

  /// The cursor to keep once this batch is processed (after the rescan, if gap).
  uint64_t next_cursor() const { return records.empty() ? last_seq : records.back().seq; }
};

/// A consumer's view of a journal. Not thread-safe: one reader per consumer thread.
///
/// Usage with epoll/io_uring: wait for wake_fd() to be readable, drain_wake_fd(), then
/// read_after(cursor) until it returns no records. Draining before reading means an append
/// that lands during the read wakes the consumer again.
class JournalReader {
 public:
  /// Opens the journal in `dir`, which must exist, and sets up its inotify watch.
  [[nodiscard]] static Result<std::unique_ptr<JournalReader>> open(const std::string& dir);

  /// Returns up to max_records (> 0) complete records with seq > cursor. Cost: continuing from
  /// the last record of the previous batch reads only the new bytes (the reader keeps the
  /// segment and offset); any other cursor binary-searches the segment names, then byte
  /// offsets inside the segment (lines are in seq order), and reads at most ~64 KiB before the
  /// first record it returns. Each call also lists the directory once (a few syscalls) to
  /// follow rotation and retention.
  [[nodiscard]] Result<JournalBatch> read_after(uint64_t cursor, size_t max_records);

  /// An inotify fd (O_NONBLOCK, O_CLOEXEC; IN_MODIFY|IN_CREATE on the directory) that becomes
  /// readable when the journal grows. Owned by the reader. If the directory itself is replaced,
  /// open a new reader.
  int wake_fd() const { return inotify_fd_.get(); }

  /// Reads and discards the pending inotify events.
  void drain_wake_fd();

 private:
  struct Segment {
    uint64_t first_seq;
    ino_t ino;
  };

  JournalReader(std::string dir, Fd dir_fd, Fd inotify_fd)
      : dir_(std::move(dir)), dir_fd_(std::move(dir_fd)), inotify_fd_(std::move(inotify_fd)) {}
  [[nodiscard]] Result<JournalBatch> read_after_impl(uint64_t cursor, size_t max_records);
  [[nodiscard]] Result<void> list_segments();
  [[nodiscard]] Result<bool> locate(uint64_t cursor, bool& gap);
  [[nodiscard]] Result<bool> open_segment(const Segment& segment);
  [[nodiscard]] Result<void> seek_before(uint64_t cursor);
  [[nodiscard]] Result<std::optional<std::string_view>> next_line();
  [[nodiscard]] Result<uint64_t> journal_last_seq();

  const std::string dir_;
  const Fd dir_fd_;
  const Fd inotify_fd_;
  std::vector<Segment> segments_;  // from the last listing, oldest first

  // The position: the segment, the file offset of buf_[buf_start_] (always the start of a line),
  // and bytes read ahead; only whole lines of them are ever used.
  bool positioned_ = false;
  uint64_t pos_cursor_ = 0;  // read_after(pos_cursor_) continues from the position
  Fd seg_fd_;
  uint64_t seg_first_ = 0;
  ino_t seg_ino_ = 0;
  uint64_t seg_off_ = 0;
  uint64_t seg_last_seq_ = 0;  // the highest seq seen in this segment, 0 if none
  std::unique_ptr<char[]> buf_;
  size_t buf_cap_ = 0;
  size_t buf_len_ = 0;
  size_t buf_start_ = 0;
};

}  // namespace base
