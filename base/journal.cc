// The change journal; the format and its guarantees are described at the top of journal.h.
#include "base/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "base/file.h"

namespace base {

namespace {

constexpr std::array<std::string_view, 16> kOpNames = {
    "create", "write",   "truncate", "mkdir", "mknod",    "unlink",      "rmdir",   "rename",
    "link",   "symlink", "chmod",    "chown", "setxattr", "removexattr", "utimens", "rescan",
};
static_assert(static_cast<size_t>(JournalOp::rescan) + 1 == kOpNames.size());

constexpr const char* kLockName = "writer.lock";
constexpr std::string_view kRunning = "running\n";
constexpr std::string_view kStopped = "stopped\n";
// The body of the rescan record the writer owes after a failed append (see append()).
constexpr std::string_view kRescanBody = ",\"op\":\"rescan\",\"path\":\"\"}\n";
// Preallocation step for the current segment: one fallocate per this many bytes of records.
constexpr uint64_t kPreallocChunk = 1u << 20;
// The reader's read-ahead.
constexpr size_t kReadChunk = 64u << 10;
// How often one read_after call re-locates after segments vanish under it before giving up.
constexpr int kMaxRelocations = 8;

// ---- encoding -------------------------------------------------------------------------------

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid UTF-8 sequence at p (n > 0 bytes available, p[0] >= 0x80), or 0 if
// p[0] does not start one: overlong forms, UTF-16 surrogates (ED A0..BF) and code points above
// U+10FFFF are invalid, as in RFC 3629.
size_t utf8_sequence_length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) {
    return n >= 2 && is_continuation(p[1]) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !is_continuation(p[2])) {
      return 0;
    }
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !is_continuation(p[2]) || !is_continuation(p[3])) {
      return 0;
    }
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
  }
  return 0;
}

constexpr char kHex[] = "0123456789abcdef";

// Appends `s` as the inside of a JSON string: valid UTF-8 as is, each byte of invalid UTF-8 as
// \udcXX (surrogateescape), control bytes escaped.
void append_escaped(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    if (c >= 0x80) {
      size_t len = utf8_sequence_length(p + i, n - i);
      if (len != 0) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out.append("\\udc");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        ++i;
      }
    } else {
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\t': out.append("\\t"); break;
        case '\r': out.append("\\r"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
          break;
      }
      ++i;
    }
    run = i;
  }
  out.append(s.data() + run, n - run);
}

template <typename Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out.append(",\"");
  out.append(key);
  out.append("\":\"");
  append_escaped(out, value);
  out.push_back('"');
}

// Everything after `{"seq":N,"t":T`, through the '\n'.
void encode_body(std::string& out, JournalOp op, std::string_view path, std::string_view path2,
                 std::string_view container, std::string_view agent, std::string_view role) {
  out.append(",\"op\":\"");
  out.append(op_name(op));
  out.push_back('"');
  append_field(out, "path", path);
  if (!path2.empty()) {
    append_field(out, "path2", path2);
  }
  if (!container.empty()) {
    append_field(out, "container", container);
  }
  if (!agent.empty()) {
    append_field(out, "agent", agent);
  }
  if (!role.empty()) {
    append_field(out, "role", role);
  }
  out.append("}\n");
}

bool has_path2(JournalOp op) { return op == JournalOp::rename || op == JournalOp::link; }

// ---- decoding -------------------------------------------------------------------------------

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A strict parser for one record: a JSON object whose known keys have the types journal.h
// gives; unknown keys may hold any JSON value and are skipped.
class RecordParser {
 public:
  explicit RecordParser(std::string_view s) : s_(s) {}

  Result<JournalRecord> parse() {
    JournalRecord rec;
    bool have_seq = false;
    bool have_t = false;
    bool have_op = false;
    bool have_path = false;
    bool have_path2 = false;
    std::string key;
    std::string scratch;
    skip_ws();
    if (!consume('{')) {
      return fail("expected '{'");
    }
    skip_ws();
    if (!consume('}')) {
      for (;;) {
        skip_ws();
        COVE_TRY(parse_string(key, "a key"));
        skip_ws();
        if (!consume(':')) {
          return fail(fmt::format("expected ':' after \"{}\"", key));
        }
        skip_ws();
        if (key == "seq") {
          COVE_TRY_ASSIGN(seq, parse_uint("seq"));
          rec.seq = seq;
          have_seq = true;
        } else if (key == "t") {
          COVE_TRY_ASSIGN(t, parse_int("t"));
          rec.time_ns = t;
          have_t = true;
        } else if (key == "op") {
          COVE_TRY(parse_string(scratch, "\"op\""));
          auto op = parse_op(scratch);
          if (!op) {
            return Error::make(EINVAL, "journal record: unknown op \"{}\"", scratch);
          }
          rec.op = *op;
          have_op = true;
        } else if (key == "path") {
          COVE_TRY(parse_string(rec.path, "\"path\""));
          have_path = true;
        } else if (key == "path2") {
          COVE_TRY(parse_string(rec.path2, "\"path2\""));
          have_path2 = true;
        } else if (key == "container") {
          COVE_TRY(parse_string(rec.container, "\"container\""));
        } else if (key == "agent") {
          COVE_TRY(parse_string(rec.agent, "\"agent\""));
        } else if (key == "role") {
          COVE_TRY(parse_string(rec.role, "\"role\""));
        } else {
          COVE_TRY(skip_value(0));
        }
        skip_ws();
        if (consume(',')) {
          continue;
        }
        if (consume('}')) {
          break;
        }
        return fail("expected ',' or '}'");
      }
    }
    skip_ws();
    if (i_ != s_.size()) {
      return fail("trailing bytes after the record");
    }
    if (!have_seq) {
      return Error::make(EINVAL, "journal record: missing \"seq\"");
    }
    if (rec.seq == 0) {
      return Error::make(EINVAL, "journal record: \"seq\" is 0 (seqs start at 1)");
    }
    if (!have_t) {
      return Error::make(EINVAL, "journal record {}: missing \"t\"", rec.seq);
    }
    if (!have_op) {
      return Error::make(EINVAL, "journal record {}: missing \"op\"", rec.seq);
    }
    if (!have_path) {
      return Error::make(EINVAL, "journal record {}: missing \"path\"", rec.seq);
    }
    if (has_path2(rec.op) && rec.path2.empty()) {
      return Error::make(EINVAL, "journal record {}: {} without \"path2\"", rec.seq,
                         op_name(rec.op));
    }
    if (!has_path2(rec.op) && have_path2) {
      return Error::make(EINVAL, "journal record {}: \"path2\" on a {} record", rec.seq,
                         op_name(rec.op));
    }
    return rec;
  }

 private:
  Error fail(std::string_view what) const {
    return Error::make(EINVAL, "journal record: {} at byte {}", what, i_);
  }

  void skip_ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) {
      ++i_;
    }
  }

  bool consume(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  Result<uint32_t> parse_hex4() {
    if (s_.size() - i_ < 4) {
      return fail("truncated \\u escape");
    }
    uint32_t v = 0;
    auto res = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
    if (res.ec != std::errc() || res.ptr != s_.data() + i_ + 4) {
      return fail("bad \\u escape");
    }
    i_ += 4;
    return v;
  }

  Result<void> parse_string(std::string& out, std::string_view what) {
    out.clear();
    if (!consume('"')) {
      return fail(fmt::format("expected {} (a string)", what));
    }
    const size_t n = s_.size();
    for (;;) {
      size_t start = i_;
      while (i_ < n) {
        auto c = static_cast<unsigned char>(s_[i_]);
        if (c == '"' || c == '\\' || c < 0x20) {
          break;
        }
        ++i_;
      }
      out.append(s_.data() + start, i_ - start);
      if (i_ >= n) {
        return fail(fmt::format("unterminated {}", what));
      }
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return {};
      }
      if (c != '\\') {
        return fail(fmt::format("raw control byte in {}", what));
      }
      if (++i_ >= n) {
        return fail(fmt::format("unterminated {}", what));
      }
      char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          COVE_TRY_ASSIGN(cp, parse_hex4());
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must start a pair (the writer never emits one alone).
            if (s_.size() - i_ >= 6 && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
              i_ += 2;
              COVE_TRY_ASSIGN(lo, parse_hex4());
              if (lo >= 0xDC00 && lo <= 0xDFFF) {
                append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                break;
              }
            }
            return fail("unpaired high surrogate");
          }
          if (cp >= 0xDC80 && cp <= 0xDCFF) {
            out.push_back(static_cast<char>(cp & 0xFF));  // surrogateescape: a raw byte
            break;
          }
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("lone low surrogate below \\udc80");
          }
          append_utf8(out, cp);
          break;
        }
        default: return fail(fmt::format("bad escape '\\{}'", e));
      }
    }
  }

  // The end of a number token: what must follow an integer.
  bool integer_ends_here() const {
    return i_ >= s_.size() || (s_[i_] != '.' && s_[i_] != 'e' && s_[i_] != 'E');
  }

  Result<uint64_t> parse_uint(std::string_view key) {
    uint64_t v = 0;
    auto res = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
    if (res.ec != std::errc() || res.ptr == s_.data() + i_) {
      return fail(fmt::format("\"{}\" is not an unsigned 64-bit integer", key));
    }
    i_ = static_cast<size_t>(res.ptr - s_.data());
    if (!integer_ends_here()) {
      return fail(fmt::format("\"{}\" is not an integer", key));
    }
    return v;
  }

  Result<int64_t> parse_int(std::string_view key) {
    int64_t v = 0;
    auto res = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
    if (res.ec != std::errc() || res.ptr == s_.data() + i_) {
      return fail(fmt::format("\"{}\" is not a 64-bit integer", key));
    }
    i_ = static_cast<size_t>(res.ptr - s_.data());
    if (!integer_ends_here()) {
      return fail(fmt::format("\"{}\" is not an integer", key));
    }
    return v;
  }

  Result<void> skip_value(int depth) {
    if (depth > 32) {
      return fail("value nested too deeply");
    }
    if (i_ >= s_.size()) {
      return fail("expected a value");
    }
    char c = s_[i_];
    if (c == '"') {
      std::string ignored;
      return parse_string(ignored, "a string");
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      skip_ws();
      if (consume(close)) {
        return {};
      }
      for (;;) {
        skip_ws();
        if (c == '{') {
          std::string ignored;
          COVE_TRY(parse_string(ignored, "a key"));
          skip_ws();
          if (!consume(':')) {
            return fail("expected ':'");
          }
          skip_ws();
        }
        COVE_TRY(skip_value(depth + 1));
        skip_ws();
        if (consume(',')) {
          continue;
        }
        if (consume(close)) {
          return {};
        }
        return fail("expected ',' or a closing bracket");
      }
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (s_.substr(i_, lit.size()) == lit) {
        i_ += lit.size();
        return {};
      }
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
    }
    if (i_ == start) {
      return fail("expected a value");
    }
    return {};
  }

  std::string_view s_;
  size_t i_ = 0;
};

// The seq of a line written by this code (`{"seq":N,` first), without decoding the rest; nullopt
// for anything else, which then takes the full decode().
std::optional<uint64_t> peek_seq(std::string_view line) {
  constexpr std::string_view kPrefix = "{\"seq\":";
  if (line.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  uint64_t v = 0;
  const char* begin = line.data() + kPrefix.size();
  const char* end = line.data() + line.size();
  auto res = std::from_chars(begin, end, v);
  if (res.ec != std::errc() || res.ptr == begin || res.ptr == end ||
      (*res.ptr != ',' && *res.ptr != '}')) {
    return std::nullopt;
  }
  return v;
}

// ---- segment files --------------------------------------------------------------------------

std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != 20 || name.substr(16) != ".log") {
    return std::nullopt;
  }
  uint64_t v = 0;
  auto res = std::from_chars(name.data(), name.data() + 16, v, 16);
  if (res.ec != std::errc() || res.ptr != name.data() + 16 || v == 0) {
    return std::nullopt;
  }
  return v;
}

struct SegmentFile {
  uint64_t first_seq;
  ino_t ino;
};

// The segments in the directory, oldest first. Rewinds and reads `dir_fd` itself (getdents64),
// so a listing costs two or three syscalls; the caller must not share dir_fd between threads.
Result<std::vector<SegmentFile>> list_segment_files(int dir_fd) {
  std::vector<SegmentFile> out;
  if (::lseek(dir_fd, 0, SEEK_SET) < 0) {
    return Error::sys("rewind directory");
  }
  alignas(struct dirent64) char buf[16384];
  for (;;) {
    ssize_t n = ::getdents64(dir_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::sys("getdents64");
    }
    if (n == 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* d = reinterpret_cast<const struct dirent64*>(buf + off);
      if (auto seq = parse_segment_name(d->d_name)) {
        out.push_back({*seq, d->d_ino});
      }
      off += d->d_reclen;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return out;
}

// Reads up to buf.size() bytes at `off`; the buffer is shrunk to what the file held.
Result<void> pread_full(int fd, std::string& buf, uint64_t off) {
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(off + got));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::sys("pread");
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return {};
}

struct Tail {
  uint64_t valid_end = 0;            // just past the last decodable whole line
  std::optional<uint64_t> last_seq;  // its seq
};

// Finds the last decodable whole line of a segment of `size` bytes by reading backwards in
// growing windows. Bytes after it are a torn line or garbage.
Result<Tail> scan_tail(int fd, uint64_t size) {
  uint64_t end = size;  // bytes at and after `end` hold no decodable whole line
  uint64_t window = 64u << 10;
  std::string buf;
  while (end > 0) {
    uint64_t start = end > window ? end - window : 0;
    buf.resize(end - start);
    COVE_TRY(pread_full(fd, buf, start));
    size_t e = buf.size();
    for (;;) {
      size_t nl = e == 0 ? std::string::npos : buf.rfind('\n', e - 1);
      if (nl == std::string::npos) {
        end = start;  // no line ends inside the window
        break;
      }
      size_t prev = nl == 0 ? std::string::npos : buf.rfind('\n', nl - 1);
      if (prev == std::string::npos && start > 0) {
        end = start + nl + 1;  // the line may begin before the window: widen it
        window *= 2;
        break;
      }
      size_t line_start = prev == std::string::npos ? 0 : prev + 1;
      auto rec = decode(std::string_view(buf.data() + line_start, nl - line_start));
      if (rec) {
        return Tail{start + nl + 1, rec->seq};
      }
      e = line_start;
    }
  }
  return Tail{};
}

}  // namespace

// ---- records --------------------------------------------------------------------------------

std::string_view op_name(JournalOp op) { return kOpNames[static_cast<size_t>(op)]; }

std::optional<JournalOp> parse_op(std::string_view name) {
  for (size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) {
      return static_cast<JournalOp>(i);
    }
  }
  return std::nullopt;
}

std::string encode(const JournalRecord& record) {
  std::string out;
  out.reserve(64 + record.path.size() + record.path2.size());
  out.append("{\"seq\":");
  append_int(out, record.seq);
  out.append(",\"t\":");
  append_int(out, record.time_ns);
  encode_body(out, record.op, record.path, record.path2, record.container, record.agent,
              record.role);
  return out;
}

Result<JournalRecord> decode(std::string_view line) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  return RecordParser(line).parse();
}

std::string journal_segment_name(uint64_t first_seq) {
  return fmt::format("{:016x}.log", first_seq);
}

// ---- writer ---------------------------------------------------------------------------------

namespace {

// Mode and group of one of the journal's files or of the directory itself (name ""), from the
// options' readers' group. Files are opened without following symlinks; the directory is ours.
Result<void> apply_access(int dir_fd, const std::string& name, const JournalOptions& o) {
  bool dir = name.empty();
  mode_t mode = o.group ? (dir ? 0750 : 0640) : (dir ? 0700 : 0600);
  Fd own;
  int fd = dir_fd;
  if (!dir) {
    own = Fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!own.valid()) {
      return errno == ENOENT ? Result<void>{} : Error::sys("open {}", name);
    }
    fd = own.get();
  }
  if (o.group && ::fchown(fd, static_cast<uid_t>(-1), *o.group) != 0) {
    return Error::sys("chgrp {} to {}", dir ? "." : name, *o.group);
  }
  if (::fchmod(fd, mode) != 0) {
    return Error::sys("chmod {} {:o}", dir ? "." : name, mode);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<JournalWriter>> JournalWriter::open(const std::string& dir,
                                                           JournalOptions options) {
  if (options.segment_bytes == 0 || options.max_bytes == 0) {
    return Error::make(EINVAL, "journal {}: segment_bytes and max_bytes must be positive", dir);
  }
  if (auto r = make_dirs(dir, 0700); !r) {
    return r.error().wrap("journal");
  }
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return Error::sys("journal: open {}", dir);
  }
  Fd lock_fd(::openat(dir_fd.get(), kLockName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock_fd.valid()) {
    return Error::sys("journal: open {}/{}", dir, kLockName);
  }
  // Who may read: the directory, the lock file and every segment already there.
  std::vector<std::string> names = {"", kLockName};
  if (auto files = list_segment_files(dir_fd.get()); files) {
    for (const auto& f : *files) {
      names.push_back(journal_segment_name(f.first_seq));
    }
  }
  for (const auto& name : names) {
    if (auto r = apply_access(dir_fd.get(), name, options); !r) {
      return r.error().wrap("journal {}", dir);
    }
  }
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error::make(EBUSY, "journal {}: another writer holds {}", dir, kLockName);
    }
    return Error::sys("journal: lock {}/{}", dir, kLockName);
  }
  char state[16];
  ssize_t n = ::pread(lock_fd.get(), state, sizeof state, 0);
  bool clean = n == static_cast<ssize_t>(kStopped.size()) &&
               std::string_view(state, kStopped.size()) == kStopped;

  std::unique_ptr<JournalWriter> w(
      new JournalWriter(dir, options, std::move(dir_fd), std::move(lock_fd)));
  COVE_TRY(w->recover(clean));
  // Say "running" durably before the first append, so a crash from here on reads as unclean.
  int lfd = w->lock_fd_.get();
  if (::pwrite(lfd, kRunning.data(), kRunning.size(), 0) != static_cast<ssize_t>(kRunning.size()) ||
      ::ftruncate(lfd, static_cast<off_t>(kRunning.size())) != 0 || ::fdatasync(lfd) != 0) {
    return Error::sys("journal: write {}/{}", dir, kLockName);
  }
  if (::fsync(w->dir_fd_.get()) != 0) {
    return Error::sys("journal: fsync {}", dir);
  }
  w->running_ = true;
  return w;
}

Result<void> JournalWriter::recover(bool clean_marker) {
  std::lock_guard lock(mu_);
  auto files = list_segment_files(dir_fd_.get());
  if (!files) {
    return files.error().wrap("journal {}", dir_);
  }
  if (files->empty()) {
    unclean_stop_ = false;
    next_seq_ = 1;
    return open_new_segment_locked(1);
  }
  for (size_t i = 0; i + 1 < files->size(); ++i) {
    std::string name = journal_segment_name((*files)[i].first_seq);
    struct stat st {};
    if (::fstatat(dir_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;
      }
      return Error::sys("journal {}: stat {}", dir_, name);
    }
    segments_.push_back({(*files)[i].first_seq, static_cast<uint64_t>(st.st_size)});
    total_bytes_ += static_cast<uint64_t>(st.st_size);
  }
  uint64_t first = files->back().first_seq;
  std::string name = journal_segment_name(first);
  Fd fd(::openat(dir_fd_.get(), name.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return Error::sys("journal {}: open {}", dir_, name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::sys("journal {}: stat {}", dir_, name);
  }
  auto tail = scan_tail(fd.get(), static_cast<uint64_t>(st.st_size));
  if (!tail) {
    return tail.error().wrap("journal {}: recover {}", dir_, name);
  }
  bool torn = tail->valid_end < static_cast<uint64_t>(st.st_size);
  if (torn && ::ftruncate(fd.get(), static_cast<off_t>(tail->valid_end)) != 0) {
    return Error::sys("journal {}: truncate the torn tail of {} to {} bytes", dir_, name,
                      tail->valid_end);
  }
  next_seq_ = tail->last_seq ? std::max(*tail->last_seq + 1, first) : first;
  last_seq_.store(next_seq_ - 1, std::memory_order_release);
  current_ = std::make_shared<Fd>(std::move(fd));
  current_size_ = tail->valid_end;
  allocated_end_ = 0;
  segments_.push_back({first, current_size_});
  total_bytes_ += current_size_;
  unclean_stop_ = !clean_marker || torn;
  enforce_retention_locked();
  return {};
}

JournalWriter::~JournalWriter() {
  if (!running_) {
    return;
  }
  std::lock_guard lock(mu_);
  release_prealloc_locked();
  // A stop is clean only if everything is on disk and no change went unrecorded; otherwise the
  // lock file keeps saying "running" and the next writer reports unclean_stop().
  if (::fdatasync(current_->get()) == 0 && !rescan_owed_) {
    (void)!::pwrite(lock_fd_.get(), kStopped.data(), kStopped.size(), 0);
  }
}

Result<uint64_t> JournalWriter::append(JournalOp op, std::string_view path, std::string_view path2,
                                       const Attribution& who) {
  if (has_path2(op) != !path2.empty()) {
    return Error::make(EINVAL, "journal append: {} {} path2", op_name(op),
                       has_path2(op) ? "needs a" : "takes no");
  }
  for (std::string_view p : {path, path2}) {
    if (!p.empty() && p.front() == '/') {
      return Error::make(EINVAL, "journal append: path {} is absolute (must be workspace-relative)",
                         p);
    }
    if (p.find('\0') != std::string_view::npos) {
      return Error::make(EINVAL, "journal append: path contains NUL");
    }
  }
  // Encode outside the lock; only the seq and time are added under it.
  thread_local std::string body;
  body.clear();
  encode_body(body, op, path, path2, who.container, who.agent, who.role);

  std::lock_guard lock(mu_);
  if (rescan_owed_) {
    COVE_TRY(write_record_locked(kRescanBody));
    rescan_owed_ = false;
  }
  auto seq = write_record_locked(body);
  if (!seq) {
    rescan_owed_ = true;
  }
  return seq;
}

Result<uint64_t> JournalWriter::write_record_locked(std::string_view body) {
  const uint64_t seq = next_seq_;
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  line_.clear();
  line_.append("{\"seq\":");
  append_int(line_, seq);
  line_.append(",\"t\":");
  append_int(line_, static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
  line_.append(body);

  if (truncate_pending_) {
    if (::ftruncate(current_->get(), static_cast<off_t>(current_size_)) != 0) {
      return Error::sys("journal {}: cut a partial line from {}", dir_,
                        journal_segment_name(segments_.back().first_seq));
    }
    truncate_pending_ = false;
  }
  if (current_size_ > 0 && current_size_ + line_.size() > options_.segment_bytes) {
    COVE_TRY(roll_locked());
  }
  COVE_TRY(reserve_locked(line_.size()));

  // One write() of the whole line. Should it come back short (no preallocation and the disk
  // filled up), the rest is tried; if that fails the partial line is cut off again.
  const int fd = current_->get();
  size_t done = 0;
  while (done < line_.size()) {
    ssize_t n = ::write(fd, line_.data() + done, line_.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Error err = Error::sys("journal {}: append seq {} to {}", dir_, seq,
                             journal_segment_name(segments_.back().first_seq));
      if (done > 0 && ::ftruncate(fd, static_cast<off_t>(current_size_)) != 0) {
        truncate_pending_ = true;  // readers never return a line without its '\n'
      }
      return err;
    }
    done += static_cast<size_t>(n);
  }
  current_size_ += line_.size();
  segments_.back().bytes += line_.size();
  total_bytes_ += line_.size();
  next_seq_ = seq + 1;
  last_seq_.store(seq, std::memory_order_release);
  if (total_bytes_ > options_.max_bytes && segments_.size() > 1) {
    enforce_retention_locked();
  }
  return seq;
}

Result<void> JournalWriter::open_new_segment_locked(uint64_t first_seq) {
  std::string name = journal_segment_name(first_seq);
  // Without O_EXCL: a previous attempt may have created the file and then failed to fsync the
  // directory; an empty file is reused, anything else is refused.
  Fd fd(::openat(dir_fd_.get(), name.c_str(),
                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return Error::sys("journal {}: create {}", dir_, name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::sys("journal {}: stat {}", dir_, name);
  }
  if (st.st_size != 0) {
    return Error::make(EEXIST, "journal {}: new segment {} already holds {} bytes", dir_, name,
                       st.st_size);
  }
  if (auto r = apply_access(dir_fd_.get(), name, options_); !r) {
    return r.error().wrap("journal {}", dir_);
  }
  // The new name must survive a crash before records in it are reported durable.
  if (::fsync(dir_fd_.get()) != 0) {
    return Error::sys("journal {}: fsync the directory after creating {}", dir_, name);
  }
  current_ = std::make_shared<Fd>(std::move(fd));
  current_size_ = 0;
  allocated_end_ = 0;
  segments_.push_back({first_seq, 0});
  return {};
}

Result<void> JournalWriter::roll_locked() {
  // The old segment is made durable here, once per segment, so sync() only ever needs to
  // flush the current one.
  release_prealloc_locked();
  if (::fdatasync(current_->get()) != 0) {
    return Error::sys("journal {}: fdatasync {}", dir_,
                      journal_segment_name(segments_.back().first_seq));
  }
  return open_new_segment_locked(next_seq_);
}

Result<void> JournalWriter::reserve_locked(size_t n) {
  if (!prealloc_ || current_size_ + n <= allocated_end_) {
    return {};
  }
  // Blocks past EOF (KEEP_SIZE) are invisible to readers; a write into them cannot hit ENOSPC,
  // so a full disk fails here, before any byte of the line is written.
  const int fd = current_->get();
  const auto off = static_cast<off_t>(current_size_);
  uint64_t chunk = std::max<uint64_t>(n, std::min(kPreallocChunk, options_.segment_bytes));
  if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, off, static_cast<off_t>(chunk)) == 0) {
    allocated_end_ = current_size_ + chunk;
    return {};
  }
  if (errno == EOPNOTSUPP || errno == ENOSYS) {
    prealloc_ = false;  // e.g. some FUSE or network filesystems; short writes are cut instead
    return {};
  }
  if ((errno == ENOSPC || errno == EDQUOT) && chunk > n &&
      ::fallocate(fd, FALLOC_FL_KEEP_SIZE, off, static_cast<off_t>(n)) == 0) {
    allocated_end_ = current_size_ + n;
    return {};
  }
  return Error::sys("journal {}: reserve {} bytes in {}", dir_, n,
                    journal_segment_name(segments_.back().first_seq));
}

void JournalWriter::release_prealloc_locked() {
  if (allocated_end_ > current_size_) {
    // ftruncate to the same size frees blocks preallocated past EOF (ext4, xfs, tmpfs); a
    // failure only costs space.
    (void)!::ftruncate(current_->get(), static_cast<off_t>(current_size_));
  }
  allocated_end_ = 0;
}

void JournalWriter::enforce_retention_locked() {
  while (total_bytes_ > options_.max_bytes && segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    // A failure other than ENOENT only costs space; retrying on every append would cost a
    // syscall each time, so the segment is forgotten either way.
    (void)::unlinkat(dir_fd_.get(), journal_segment_name(oldest.first_seq).c_str(), 0);
    total_bytes_ -= oldest.bytes;
    segments_.pop_front();
  }
}

Result<void> JournalWriter::sync() {
  std::shared_ptr<Fd> fd;
  {
    std::lock_guard lock(mu_);
    fd = current_;
  }
  // Outside mu_: appends go on while the disk works. Segments closed by a roll were
  // fdatasync'ed by the roll.
  if (::fdatasync(fd->get()) != 0) {
    return Error::sys("journal {}: fdatasync", dir_);
  }
  return {};
}

// ---- reader ---------------------------------------------------------------------------------

Result<std::unique_ptr<JournalReader>> JournalReader::open(const std::string& dir) {
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return Error::sys("journal: open {}", dir);
  }
  Fd inotify_fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_fd.valid()) {
    return Error::sys("journal {}: inotify_init1", dir);
  }
  if (::inotify_add_watch(inotify_fd.get(), dir.c_str(), IN_MODIFY | IN_CREATE) < 0) {
    return Error::sys("journal {}: inotify_add_watch", dir);
  }
  return std::unique_ptr<JournalReader>(
      new JournalReader(dir, std::move(dir_fd), std::move(inotify_fd)));
}

void JournalReader::drain_wake_fd() {
  alignas(struct inotify_event) char buf[4096];
  while (::read(inotify_fd_.get(), buf, sizeof buf) > 0) {
  }
}

Result<void> JournalReader::list_segments() {
  auto files = list_segment_files(dir_fd_.get());
  if (!files) {
    return files.error().wrap("journal {}", dir_);
  }
  segments_.clear();
  for (const SegmentFile& f : *files) {
    segments_.push_back({f.first_seq, f.ino});
  }
  return {};
}

Result<bool> JournalReader::open_segment(const Segment& segment) {
  std::string name = journal_segment_name(segment.first_seq);
  Fd fd(::openat(dir_fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return false;  // deleted by retention since the listing
    }
    return Error::sys("journal {}: open {}", dir_, name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::sys("journal {}: stat {}", dir_, name);
  }
  seg_fd_ = std::move(fd);
  seg_first_ = segment.first_seq;
  seg_ino_ = st.st_ino;
  seg_off_ = 0;
  seg_last_seq_ = 0;
  buf_len_ = 0;
  buf_start_ = 0;
  positioned_ = true;
  return true;
}

Result<bool> JournalReader::locate(uint64_t cursor, bool& gap) {
  positioned_ = false;
  const uint64_t want = cursor == UINT64_MAX ? cursor : cursor + 1;
  for (int attempt = 0; attempt < kMaxRelocations; ++attempt) {
    COVE_TRY(list_segments());
    if (segments_.empty()) {
      return false;
    }
    // The last segment whose first seq is <= want holds want, if anything does.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), want,
                               [](uint64_t v, const Segment& s) { return v < s.first_seq; });
    bool deleted = it == segments_.begin();  // want is older than every retained record
    if (!deleted) {
      --it;
    }
    COVE_TRY_ASSIGN(opened, open_segment(*it));
    if (opened) {
      if (!deleted && want > it->first_seq) {
        COVE_TRY(seek_before(cursor));
      }
      gap = gap || deleted;
      pos_cursor_ = cursor;
      return true;
    }
  }
  return Error::make(EAGAIN, "journal {}: segments keep vanishing while looking for seq {}", dir_,
                     want);
}

Result<void> JournalReader::seek_before(uint64_t cursor) {
  // Bisects byte offsets for a line start `lo` such that every line before it has seq <= cursor
  // and the first record after the cursor starts less than kReadChunk bytes (plus a line) after
  // it; next_line() then skips the rest by their `{"seq":N` prefix. Lines in a segment are in
  // seq order because the writer appends under its mutex.
  struct stat st {};
  if (::fstat(seg_fd_.get(), &st) != 0) {
    return Error::sys("journal {}: stat {}", dir_, journal_segment_name(seg_first_));
  }
  uint64_t lo = 0;
  uint64_t hi = static_cast<uint64_t>(st.st_size);
  std::string block;
  while (hi - lo > kReadChunk) {
    uint64_t mid = lo + (hi - lo) / 2;
    block.resize(4096);
    COVE_TRY(pread_full(seg_fd_.get(), block, mid));
    size_t nl = block.find('\n');
    if (nl == std::string::npos || mid + nl + 1 >= hi) {
      hi = mid;  // no line starts in [mid, hi) that we can see: look lower
      continue;
    }
    uint64_t line_start = mid + nl + 1;
    std::optional<uint64_t> seq = peek_seq(std::string_view(block).substr(nl + 1));
    if (!seq && block.size() - (nl + 1) < 64) {
      block.resize(64);  // the prefix was cut by the block's end
      COVE_TRY(pread_full(seg_fd_.get(), block, line_start));
      seq = peek_seq(block);
    }
    if (!seq) {
      break;  // not our prefix form (or a long line): scan from lo
    }
    if (*seq <= cursor) {
      lo = line_start;
    } else {
      hi = mid;
    }
  }
  seg_off_ = lo;
  buf_len_ = 0;
  buf_start_ = 0;
  return {};
}

Result<std::optional<std::string_view>> JournalReader::next_line() {
  for (;;) {
    const char* base = buf_.get() + buf_start_;
    const size_t avail = buf_len_ - buf_start_;
    if (avail > 0) {
      if (const void* nl = std::memchr(base, '\n', avail)) {
        auto len = static_cast<size_t>(static_cast<const char*>(nl) - base);
        buf_start_ += len + 1;
        seg_off_ += len + 1;
        return std::optional<std::string_view>(std::string_view(base, len));
      }
    }
    // No whole line is buffered. Read afresh from the start of the partial one rather than
    // appending to it: a failed write may have been cut and the offset written again since.
    const size_t want = std::max(kReadChunk, avail * 2);
    if (buf_cap_ < want) {
      buf_ = std::make_unique_for_overwrite<char[]>(want);
      buf_cap_ = want;
    }
    buf_start_ = 0;
    buf_len_ = 0;
    while (buf_len_ < want) {
      ssize_t n = ::pread(seg_fd_.get(), buf_.get() + buf_len_, want - buf_len_,
                          static_cast<off_t>(seg_off_ + buf_len_));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Error::sys("journal {}: read {}", dir_, journal_segment_name(seg_first_));
      }
      if (n == 0) {
        break;
      }
      buf_len_ += static_cast<size_t>(n);
    }
    if (buf_len_ < want && std::memchr(buf_.get(), '\n', buf_len_) == nullptr) {
      buf_len_ = 0;  // the end of the segment, or a line still being written
      return std::optional<std::string_view>();
    }
    // Otherwise there is a line now, or the buffer was too small for one: go round.
  }
}

Result<uint64_t> JournalReader::journal_last_seq() {
  COVE_TRY(list_segments());
  if (segments_.empty()) {
    return uint64_t{0};
  }
  const Segment& newest = segments_.back();
  std::string name = journal_segment_name(newest.first_seq);
  Fd fd(::openat(dir_fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return Error::sys("journal {}: open {}", dir_, name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::sys("journal {}: stat {}", dir_, name);
  }
  auto tail = scan_tail(fd.get(), static_cast<uint64_t>(st.st_size));
  if (!tail) {
    return tail.error().wrap("journal {}: {}", dir_, name);
  }
  return tail->last_seq ? *tail->last_seq : newest.first_seq - 1;
}

Result<JournalBatch> JournalReader::read_after(uint64_t cursor, size_t max_records) {
  if (max_records == 0) {
    return Error::make(EINVAL, "journal {}: read_after needs max_records > 0", dir_);
  }
  auto batch = read_after_impl(cursor, max_records);
  if (!batch) {
    positioned_ = false;  // start from a clean slate next time
  }
  return batch;
}

Result<JournalBatch> JournalReader::read_after_impl(uint64_t cursor, size_t max_records) {
  JournalBatch batch;
  uint64_t prev = cursor;  // the seq the next record must follow
  bool restarted = false;
  int relocations = 0;
  auto empty_journal = [&]() {
    // No segment at all: a journal that was never written or was wiped.
    batch.gap = batch.gap || cursor > 0;
    batch.first_retained = 1;
    batch.last_seq = 0;
    return batch;
  };
  auto relocated_too_often = [&]() {
    return Error::make(EAGAIN, "journal {}: segments keep changing under the reader", dir_);
  };

  if (!positioned_ || pos_cursor_ != cursor) {
    COVE_TRY_ASSIGN(found, locate(cursor, batch.gap));
    if (!found) {
      return empty_journal();
    }
  }
  for (;;) {
    COVE_TRY_ASSIGN(line, next_line());
    if (line) {
      std::optional<uint64_t> seq = peek_seq(*line);
      if (seq && *seq <= prev) {
        seg_last_seq_ = std::max(seg_last_seq_, *seq);
        continue;  // before the cursor
      }
      auto rec = decode(*line);
      if (!rec) {
        batch.gap = true;  // a corrupt whole line: the consumer cannot know what it said
        continue;
      }
      seg_last_seq_ = std::max(seg_last_seq_, rec->seq);
      if (rec->seq <= prev) {
        continue;
      }
      if (rec->seq != prev + 1 || rec->op == JournalOp::rescan) {
        batch.gap = true;
      }
      prev = rec->seq;
      batch.records.push_back(std::move(*rec));
      if (batch.records.size() >= max_records) {
        COVE_TRY_ASSIGN(last, journal_last_seq());
        batch.last_seq = std::max(last, prev);
        break;
      }
      continue;
    }

    // The end of the current segment, for now. Follow the writer to a newer segment, if any.
    COVE_TRY(list_segments());
    struct stat st {};
    if (::fstat(seg_fd_.get(), &st) != 0) {
      return Error::sys("journal {}: stat {}", dir_, journal_segment_name(seg_first_));
    }
    bool listed = std::any_of(segments_.begin(), segments_.end(), [&](const Segment& s) {
      return s.first_seq == seg_first_ && s.ino == seg_ino_;
    });
    auto next = std::upper_bound(segments_.begin(), segments_.end(), seg_first_,
                                 [](uint64_t v, const Segment& s) { return v < s.first_seq; });
    if (listed && static_cast<uint64_t>(st.st_size) < seg_off_) {
      // A new writer cut an undecodable tail we had already passed: read the segment again.
      if (++relocations > kMaxRelocations) {
        return relocated_too_often();
      }
      seg_off_ = 0;
      seg_last_seq_ = 0;
      buf_len_ = 0;
      buf_start_ = 0;
      continue;
    }
    if (next != segments_.end()) {
      COVE_TRY_ASSIGN(opened, open_segment(*next));
      if (!opened && ++relocations > kMaxRelocations) {
        return relocated_too_often();
      }
      continue;  // if it vanished, the next round lists again
    }
    if (!listed) {
      // Our segment is gone and nothing newer exists: the journal was recreated.
      if (++relocations > kMaxRelocations) {
        return relocated_too_often();
      }
      COVE_TRY_ASSIGN(found, locate(prev, batch.gap));
      if (!found) {
        return empty_journal();
      }
      continue;
    }
    // The end of the newest segment: the end of the journal.
    const uint64_t journal_last = seg_last_seq_ != 0 ? seg_last_seq_ : seg_first_ - 1;
    if (prev > journal_last && batch.records.empty() && !restarted) {
      // The cursor is beyond the end: the journal was recreated and counts from 1 again.
      // Everything in it is news to this consumer.
      batch.gap = true;
      restarted = true;
      prev = 0;
      COVE_TRY_ASSIGN(found, locate(0, batch.gap));
      if (!found) {
        return empty_journal();
      }
      continue;
    }
    batch.last_seq = std::max(journal_last, prev);
    break;
  }
  batch.first_retained = segments_.empty() ? batch.last_seq + 1 : segments_.front().first_seq;
  pos_cursor_ = prev;
  return batch;
}

}  // namespace base
