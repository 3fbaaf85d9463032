/*
 * fsconform: a POSIX conformance battery for one directory, written to be diffed.
 *
 *   fsconform DIR [PREFIX...]   run every check (or those whose name starts with a PREFIX) in DIR
 *   fsconform --list            print the check names
 *
 * Why it exists: covefs serves a source directory through FUSE, and the question "does it keep
 * POSIX semantics?" has no absolute answer (ext4, tmpfs and xfs differ among themselves). The
 * useful question is relative: does the mount behave like the directory it serves? So this program
 * does not judge; it describes. tests/conformance/run.sh runs it on a native directory and on the
 * mount and diffs the two descriptions.
 *
 * Output: one line per check, `<check-name> <result>`, in a fixed order. A result is `ok`, an
 * errno name (`errno=EEXIST`), or space-separated key=value facts (`size=5 content=hello`). Facts
 * are normalised so that two runs on the same filesystem print the same bytes: never a timestamp,
 * inode number, pid or block count, only relations (`mtime_advanced=yes`, `same_inode=yes`,
 * `blocks_small=yes`). File contents are printed with every byte outside [!-~] (and `\`) as \xNN.
 * A check whose preparation failed prints `setup-error <what> errno=...`, which will differ from
 * the native run and so fail the comparison: preparation is meant to work everywhere.
 *
 * Layout: DIR must exist; everything happens in DIR/.fsconform-<pid>/<n>, a fresh 0777 directory
 * per check that is the current directory while the check runs (so every path is relative, and
 * an unprivileged child can work there even when DIR's ancestors are 0700). Each work directory is
 * removed after its check, and the top one at the end: DIR is left as it was found. Exit status:
 * 0 when every check ran and cleanup succeeded, 1 when something was left behind, 2 on usage.
 *
 * Privilege: run as root. Permission checks fork a child that calls setgroups/setgid/setuid to
 * 1000 or 65534 and sends its result back through a pipe. Without root those checks print
 * `skip=not-root` on both sides, which compares equal but proves nothing.
 *
 * Time: "advanced" facts about mtime/atime set the time to 2001 first and look for a newer one
 * afterwards; facts about ctime (which cannot be set) sleep 30 ms between the two samples, more
 * than a jiffy at HZ=100, so a coarse clock still ticks.
 *
 * Helper modes, used by the exec checks on a copy of this binary: `--exit-with N`,
 * `--print-euid`, `--wait-stdin`.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <concepts>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

constexpr uid_t kUser = 1000;
constexpr gid_t kUserGroup = 1000;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNobodyGroup = 65534;
/// A group that neither test user belongs to unless a check adds it as a supplementary group.
constexpr gid_t kOtherGroup = 50;
constexpr time_t kPast = 1000000000;  // 2001-09-09; "advanced" means newer than this.

bool g_root = false;

// ---------------------------------------------------------------------------------------------
// Formatting

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string errno_name(int e) {
  const char* n = strerrorname_np(e);
  return n != nullptr ? n : strf("E%d", e);
}

/// "errno=ENAME" for the current errno.
std::string err() {
  return "errno=" + errno_name(errno);
}

/// "ok" when r >= 0, the errno otherwise.
std::string rc(long r) {
  return r >= 0 ? "ok" : err();
}

/// Like rc() for an fd, which it closes.
std::string rc_close(int fd) {
  if (fd < 0) {
    return err();
  }
  close(fd);
  return "ok";
}

std::string yn(bool b) {
  return b ? "yes" : "no";
}

/// Bytes with everything outside [!-~] and the backslash as \xNN, so a value is one token.
std::string show(std::string_view data) {
  std::string out;
  for (unsigned char c : data) {
    if (c > ' ' && c <= '~' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += strf("\\x%02x", c);
    }
  }
  return out.empty() ? "<empty>" : out;
}

std::string mode_str(mode_t m) {
  return strf("%04o", static_cast<unsigned>(m & 07777));
}

std::string type_str(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG:
      return "reg";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "lnk";
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "chr";
    case S_IFBLK:
      return "blk";
    case S_IFSOCK:
      return "sock";
    default:
      return "unknown";
  }
}

/// Joins key=value facts: facts({"a", "1"}, {"b", "2"}) == "a=1 b=2".
class Facts {
 public:
  Facts& add(const std::string& key, const std::string& value) {
    if (!text_.empty()) {
      text_ += ' ';
    }
    text_ += key + "=" + value;
    return *this;
  }
  /// Integers print as numbers, bools as yes/no.
  template <std::integral T>
  Facts& add(const std::string& key, T value) {
    if constexpr (std::is_same_v<T, bool>) {
      return add(key, yn(value));
    } else {
      return add(key, std::to_string(value));
    }
  }
  Facts& add(const std::string& key, const char* value) {
    return add(key, std::string(value));
  }
  [[nodiscard]] std::string str() const {
    return text_.empty() ? "ok" : text_;
  }

 private:
  std::string text_;
};

// ---------------------------------------------------------------------------------------------
// Setup helpers: these must work on every filesystem, so a failure aborts the check.

/// Thrown when a check cannot prepare its fixture; the driver prints it as the check's result.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void need(bool ok, const std::string& what) {
  if (!ok) {
    throw SetupError("setup-error " + what + " " + err());
  }
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    need(n > 0, what);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

/// Creates or truncates `path` with `data` and exactly `mode` (independent of the umask).
void put(const char* path, std::string_view data, mode_t mode = 0644) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  need(fd >= 0, std::string("create ") + path);
  write_all(fd, data, std::string("write ") + path);
  need(fchmod(fd, mode) == 0, std::string("fchmod ") + path);
  close(fd);
}

void mkdir_mode(const char* path, mode_t mode = 0755) {
  need(mkdir(path, mode) == 0, std::string("mkdir ") + path);
  need(chmod(path, mode) == 0, std::string("chmod ") + path);
}

int open_or_fail(const char* path, int flags, mode_t mode = 0644) {
  int fd = open(path, flags | O_CLOEXEC, mode);
  need(fd >= 0, std::string("open ") + path);
  return fd;
}

struct stat lstat_or_fail(const char* path) {
  struct stat s {};
  need(lstat(path, &s) == 0, std::string("lstat ") + path);
  return s;
}

struct stat stat_or_fail(const char* path) {
  struct stat s {};
  need(stat(path, &s) == 0, std::string("stat ") + path);
  return s;
}

struct stat fstat_or_fail(int fd) {
  struct stat s {};
  need(fstat(fd, &s) == 0, "fstat");
  return s;
}

/// The content of the file at `fd` from offset 0, or an errno description.
std::string read_fd(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      return "<" + err() + ">";
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

/// The content of `path` (shown), or its open errno.
std::string content(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return err();
  }
  std::string data = read_fd(fd);
  close(fd);
  return show(data);
}

/// "yes" when lstat finds `path`, "no" on ENOENT, the errno otherwise.
std::string exists(const char* path) {
  struct stat s {};
  if (lstat(path, &s) == 0) {
    return "yes";
  }
  return errno == ENOENT ? "no" : err();
}

bool ts_after(const timespec& a, const timespec& b) {
  return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

bool ts_equal(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/// Within two minutes of the wall clock: "set to now".
bool recent(const timespec& t) {
  time_t now = time(nullptr);
  return t.tv_sec > now - 120 && t.tv_sec < now + 120;
}

/// Sets atime and mtime of `path` (not following a symlink) to kPast.
void set_past(const char* path) {
  timespec ts[2] = {{kPast, 0}, {kPast, 0}};
  need(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0, std::string("utimensat ") + path);
}

bool after_past(const timespec& t) {
  return t.tv_sec > kPast;
}

/// Long enough for a coarse (jiffy) clock to move: 30 ms > 10 ms at HZ=100.
void tick() {
  timespec ts = {0, 30 * 1000 * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/// Names in directory `path` except "." and "..", sorted.
std::vector<std::string> list_dir(const char* path) {
  std::vector<std::string> names;
  DIR* d = opendir(path);
  need(d != nullptr, std::string("opendir ") + path);
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------
// Children: unprivileged users and concurrent actors.

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

std::string recv_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

/// Describes a wait status that is not a plain exit 0.
std::string wait_desc(int status) {
  if (WIFSIGNALED(status)) {
    return strf("killed:SIG%s", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
  }
  return strf("exit=%d", WEXITSTATUS(status));
}

/// Runs `fn` in a forked child with the given credentials (groups are the supplementary groups)
/// and returns the string it produced. The child shares the cwd, so relative paths work.
template <typename Fn>
std::string as_user(uid_t uid, gid_t gid, std::vector<gid_t> groups, Fn&& fn) {
  int p[2];
  need(pipe2(p, O_CLOEXEC) == 0, "pipe");
  fflush(stdout);
  pid_t pid = fork();
  need(pid >= 0, "fork");
  if (pid == 0) {
    close(p[0]);
    std::string out;
    if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      out = "setup-error setuid " + err();
    } else {
      try {
        out = fn();
      } catch (const SetupError& e) {
        out = e.what();
      }
    }
    send_all(p[1], out);
    _exit(0);
  }
  close(p[1]);
  std::string out = recv_all(p[0]);
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child-" + wait_desc(status);
  }
  return out;
}

template <typename Fn>
std::string as_user(uid_t uid, Fn&& fn) {
  gid_t gid = uid == kUser ? kUserGroup : kNobodyGroup;
  return as_user(uid, gid, {gid}, std::forward<Fn>(fn));
}

/// A forked child that stays alive until killed; the destructor kills (by pid) and reaps it.
class Child {
 public:
  template <typename Fn>
  explicit Child(Fn&& fn) {
    fflush(stdout);
    pid_ = fork();
    need(pid_ >= 0, "fork");
    if (pid_ == 0) {
      fn();
      _exit(0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

 private:
  pid_t pid_ = -1;
};

// ---------------------------------------------------------------------------------------------
// open / creat

std::string c_open_excl_existing() {
  put("f", "x");
  Facts f;
  f.add("excl", rc_close(open("f", O_WRONLY | O_CREAT | O_EXCL, 0644)));
  f.add("content", content("f"));
  return f.str();
}

std::string c_open_excl_new() {
  Facts f;
  f.add("excl", rc_close(open("f", O_WRONLY | O_CREAT | O_EXCL, 0640)));
  struct stat s = lstat_or_fail("f");
  f.add("type", type_str(s.st_mode)).add("mode", mode_str(s.st_mode)).add("size", s.st_size);
  f.add("uid", s.st_uid).add("gid", s.st_gid);
  return f.str();
}

std::string c_open_trunc() {
  put("f", "hello world");
  set_past("f");
  int fd = open("f", O_WRONLY | O_TRUNC);
  Facts f;
  f.add("open", rc(fd));
  if (fd >= 0) {
    struct stat s = fstat_or_fail(fd);
    close(fd);
    f.add("size", s.st_size).add("mtime_advanced", after_past(s.st_mtim));
  }
  struct stat s = lstat_or_fail("f");
  f.add("size_by_path", s.st_size);
  return f.str();
}

std::string c_open_trunc_rdonly() {
  // Unspecified by POSIX; Linux truncates. Both sides must agree.
  put("f", "hello");
  Facts f;
  f.add("open", rc_close(open("f", O_RDONLY | O_TRUNC)));
  f.add("size", lstat_or_fail("f").st_size);
  return f.str();
}

std::string create_modes(mode_t mask) {
  umask(mask);
  Facts f;
  int fd = open("f", O_WRONLY | O_CREAT | O_EXCL, 0777);
  need(fd >= 0, "create f");
  close(fd);
  need(mkdir("d", 0777) == 0, "mkdir d");
  need(mkfifo("p", 0666) == 0, "mkfifo p");
  need(symlink("f", "l") == 0, "symlink l");
  f.add("file", mode_str(lstat_or_fail("f").st_mode));
  f.add("dir", mode_str(lstat_or_fail("d").st_mode));
  f.add("fifo", mode_str(lstat_or_fail("p").st_mode));
  f.add("symlink", mode_str(lstat_or_fail("l").st_mode));
  return f.str();
}

std::string c_open_mode_umask022() {
  return create_modes(022);
}

std::string c_open_mode_umask0() {
  return create_modes(0);
}

std::string c_open_mode_umask077() {
  return create_modes(077);
}

std::string c_open_mode_special_bits() {
  // Creating with setuid/setgid/sticky requested: root keeps them on files; mkdir keeps sticky
  // only (setgid on a directory comes from its parent, never from the mode argument).
  umask(0);
  Facts f;
  int fd = open("f", O_WRONLY | O_CREAT | O_EXCL, 07777);
  need(fd >= 0, "create f");
  close(fd);
  need(mkdir("d", 07777) == 0, "mkdir d");
  f.add("file", mode_str(lstat_or_fail("f").st_mode));
  f.add("dir", mode_str(lstat_or_fail("d").st_mode));
  return f.str();
}

std::string c_open_directory_on_file() {
  put("f", "x");
  mkdir_mode("d");
  Facts f;
  f.add("file", rc_close(open("f", O_RDONLY | O_DIRECTORY)));
  f.add("dir", rc_close(open("d", O_RDONLY | O_DIRECTORY)));
  return f.str();
}

std::string c_open_nofollow() {
  put("f", "x");
  need(symlink("f", "l") == 0, "symlink");
  Facts f;
  f.add("nofollow", rc_close(open("l", O_RDONLY | O_NOFOLLOW)));
  f.add("nofollow_on_file", rc_close(open("f", O_RDONLY | O_NOFOLLOW)));
  int fd = open("l", O_PATH | O_NOFOLLOW);
  f.add("opath_nofollow", rc(fd));
  if (fd >= 0) {
    f.add("opath_type", type_str(fstat_or_fail(fd).st_mode));
    close(fd);
  }
  return f.str();
}

std::string c_open_creat_via_dangling_symlink() {
  need(symlink("target", "l") == 0, "symlink");
  Facts f;
  f.add("excl", rc_close(open("l", O_WRONLY | O_CREAT | O_EXCL, 0644)));
  f.add("target_after_excl", exists("target"));
  f.add("creat", rc_close(open("l", O_WRONLY | O_CREAT, 0644)));
  f.add("target_after_creat", exists("target"));
  return f.str();
}

std::string c_open_append() {
  put("f", "abc");
  int fd = open_or_fail("f", O_WRONLY | O_APPEND);
  need(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  Facts f;
  f.add("write", rc(write(fd, "def", 3)));
  f.add("offset", lseek(fd, 0, SEEK_CUR));
  close(fd);
  f.add("content", content("f"));
  return f.str();
}

std::string c_open_append_two_fds() {
  // Two O_APPEND writers interleave without overwriting each other.
  put("f", "");
  int a = open_or_fail("f", O_WRONLY | O_APPEND);
  int b = open_or_fail("f", O_WRONLY | O_APPEND);
  write_all(a, "11", "write a");
  write_all(b, "22", "write b");
  write_all(a, "33", "write a");
  close(a);
  close(b);
  return Facts().add("content", content("f")).str();
}

std::string c_open_dir_for_write() {
  mkdir_mode("d");
  Facts f;
  f.add("wronly", rc_close(open("d", O_WRONLY)));
  f.add("rdwr", rc_close(open("d", O_RDWR)));
  f.add("rdonly", rc_close(open("d", O_RDONLY)));
  f.add("creat", rc_close(open("d", O_RDONLY | O_CREAT, 0644)));
  return f.str();
}

std::string c_open_missing() {
  put("f", "x");
  Facts f;
  f.add("missing", rc_close(open("missing", O_RDONLY)));
  f.add("missing_parent", rc_close(open("missing/x", O_RDONLY)));
  f.add("file_as_parent", rc_close(open("f/x", O_RDONLY)));
  f.add("creat_missing_parent", rc_close(open("missing/x", O_WRONLY | O_CREAT, 0644)));
  f.add("trailing_slash_file", rc_close(open("f/", O_RDONLY)));
  f.add("creat_trailing_slash", rc_close(open("new/", O_WRONLY | O_CREAT, 0644)));
  return f.str();
}

std::string c_open_o_direct() {
  Facts f;
  int fd = open("f", O_RDWR | O_CREAT | O_DIRECT, 0644);
  f.add("open", rc(fd));
  if (fd >= 0) {
    void* buf = nullptr;
    need(posix_memalign(&buf, 4096, 4096) == 0, "posix_memalign");
    memset(buf, 'd', 4096);
    f.add("write", rc(pwrite(fd, buf, 4096, 0)));
    memset(buf, 0, 4096);
    ssize_t n = pread(fd, buf, 4096, 0);
    f.add("read", n < 0 ? err() : std::to_string(n));
    f.add("match", n == 4096 && static_cast<char*>(buf)[4095] == 'd');
    free(buf);
    close(fd);
  }
  return f.str();
}

std::string c_open_o_path() {
  put("f", "hello");
  int fd = open_or_fail("f", O_PATH);
  Facts f;
  f.add("size", fstat_or_fail(fd).st_size);
  char c;
  f.add("read", rc(read(fd, &c, 1)));
  close(fd);
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// read / write

std::string c_rw_pwrite_pread() {
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  Facts f;
  f.add("pwrite", rc(pwrite(fd, "hello", 5, 10)));
  f.add("size", fstat_or_fail(fd).st_size);
  f.add("offset", lseek(fd, 0, SEEK_CUR));
  char buf[16] = {};
  ssize_t n = pread(fd, buf, 8, 8);
  f.add("pread_n", n < 0 ? err() : std::to_string(n));
  f.add("data", show(std::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0)));
  close(fd);
  return f.str();
}

std::string c_rw_sequential() {
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  write_all(fd, "0123456789", "write");
  need(lseek(fd, 3, SEEK_SET) == 3, "lseek");
  write_all(fd, "ab", "overwrite");
  need(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  char buf[32] = {};
  Facts f;
  ssize_t n1 = read(fd, buf, 4);
  f.add("read1", n1 < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n1))));
  ssize_t n2 = read(fd, buf, sizeof buf);
  f.add("read2", n2 < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n2))));
  ssize_t n3 = read(fd, buf, sizeof buf);
  f.add("read_eof", n3 < 0 ? err() : std::to_string(n3));
  f.add("pread_past_eof", pread(fd, buf, 4, 100));
  close(fd);
  return f.str();
}

std::string c_rw_large() {
  // Larger than any FUSE max_write, at an unaligned offset: the pieces must land in order.
  std::string data(3 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
  }
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  need(lseek(fd, 12345, SEEK_SET) == 12345, "lseek");
  write_all(fd, data, "write");
  close(fd);
  fd = open_or_fail("f", O_RDONLY);
  std::string back = read_fd(fd);
  close(fd);
  Facts f;
  f.add("size", back.size());
  f.add("match", back.size() == data.size() + 12345 && back.compare(12345, data.size(), data) == 0);
  f.add("head_zero", back.size() >= 12345 && back.find_first_not_of('\0') >= 12345);
  return f.str();
}

std::string c_rw_read_dir() {
  mkdir_mode("d");
  int fd = open_or_fail("d", O_RDONLY | O_DIRECTORY);
  char c;
  std::string r = rc(read(fd, &c, 1));
  close(fd);
  return r;
}

std::string c_rw_wrong_mode_fd() {
  put("f", "x");
  int ro = open_or_fail("f", O_RDONLY);
  int wo = open_or_fail("f", O_WRONLY);
  char c;
  Facts f;
  f.add("write_rdonly", rc(write(ro, "y", 1)));
  f.add("read_wronly", rc(read(wo, &c, 1)));
  close(ro);
  close(wo);
  return f.str();
}

std::string c_rw_pwrite_o_append() {
  // Linux ignores the offset of pwrite on an O_APPEND fd (documented BUG in pwrite(2)).
  put("f", "abc");
  int fd = open_or_fail("f", O_WRONLY | O_APPEND);
  Facts f;
  f.add("pwrite", rc(pwrite(fd, "X", 1, 0)));
  close(fd);
  f.add("content", content("f"));
  return f.str();
}

std::string c_rw_times_on_write() {
  put("f", "x");
  set_past("f");
  struct stat before = lstat_or_fail("f");
  tick();
  int fd = open_or_fail("f", O_WRONLY);
  write_all(fd, "y", "write");
  struct stat via_fd = fstat_or_fail(fd);
  close(fd);
  struct stat after = lstat_or_fail("f");
  Facts f;
  f.add("mtime_advanced", after_past(after.st_mtim));
  f.add("ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  f.add("fstat_mtime_advanced", after_past(via_fd.st_mtim));
  f.add("atime_unchanged", after.st_atim.tv_sec == kPast);
  return f.str();
}

std::string c_rw_atime_on_read() {
  // With relatime an atime older than a day is updated by a read; noatime never updates.
  put("f", "hello");
  set_past("f");
  int fd = open_or_fail("f", O_RDONLY);
  char buf[8];
  need(read(fd, buf, sizeof buf) >= 0, "read");
  close(fd);
  return Facts().add("atime_advanced", after_past(lstat_or_fail("f").st_atim)).str();
}

std::string c_rw_copy_file_range() {
  put("src", "0123456789");
  put("dst", "");
  int in = open_or_fail("src", O_RDONLY);
  int out = open_or_fail("dst", O_WRONLY);
  loff_t off_in = 2;
  loff_t off_out = 0;
  ssize_t n = copy_file_range(in, &off_in, out, &off_out, 5, 0);
  close(in);
  close(out);
  Facts f;
  f.add("n", n < 0 ? err() : std::to_string(n));
  f.add("content", content("dst"));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Sparse files, truncate, lseek

std::string c_sparse_5gib() {
  constexpr off_t kSize = 5LL << 30;
  constexpr off_t kAt = (9LL << 30) / 2;  // 4.5 GiB
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  Facts f;
  f.add("ftruncate", rc(ftruncate(fd, kSize)));
  f.add("pwrite", rc(pwrite(fd, "data", 4, kAt)));
  char buf[8] = {};
  ssize_t n = pread(fd, buf, 4, kAt);
  f.add("read_back", n == 4 ? show(std::string_view(buf, 4)) : (n < 0 ? err() : "short"));
  char z[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  n = pread(fd, z, sizeof z, 1LL << 30);
  f.add("hole_zero", n == 8 && std::all_of(z, z + 8, [](char c) { return c == 0; }));
  close(fd);
  struct stat s = lstat_or_fail("f");
  f.add("size", s.st_size);
  // 1 MiB of 512-byte blocks is far more than one written page needs on any filesystem.
  f.add("blocks_small", s.st_blocks < 2048);
  return f.str();
}

std::string c_trunc_grow_shrink() {
  put("f", "hello");
  Facts f;
  f.add("grow", rc(truncate("f", 8)));
  f.add("size", lstat_or_fail("f").st_size).add("content", content("f"));
  f.add("shrink", rc(truncate("f", 2)));
  f.add("size2", lstat_or_fail("f").st_size).add("content2", content("f"));
  int fd = open_or_fail("f", O_RDWR);
  f.add("ftruncate_grow", rc(ftruncate(fd, 4)));
  f.add("size3", fstat_or_fail(fd).st_size).add("content3", show(read_fd(fd)));
  close(fd);
  return f.str();
}

std::string c_trunc_errors() {
  put("f", "hello");
  mkdir_mode("d");
  int ro = open_or_fail("f", O_RDONLY);
  Facts f;
  f.add("ftruncate_rdonly_fd", rc(ftruncate(ro, 0)));
  close(ro);
  f.add("negative", rc(truncate("f", -1)));
  f.add("dir", rc(truncate("d", 0)));
  f.add("missing", rc(truncate("missing", 0)));
  f.add("size", lstat_or_fail("f").st_size);
  return f.str();
}

std::string c_trunc_times() {
  put("f", "hello");
  set_past("f");
  struct stat before = lstat_or_fail("f");
  tick();
  Facts f;
  f.add("truncate", rc(truncate("f", 1)));
  struct stat after = lstat_or_fail("f");
  f.add("mtime_advanced", after_past(after.st_mtim));
  f.add("ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  return f.str();
}

std::string c_seek_data_hole() {
  constexpr off_t kSize = 1 << 20;
  constexpr off_t kAt = 512 * 1024;
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  need(ftruncate(fd, kSize) == 0, "ftruncate");
  std::string page(4096, 'd');
  need(pwrite(fd, page.data(), page.size(), kAt) == 4096, "pwrite");
  need(fsync(fd) == 0, "fsync");
  auto where = [&](off_t off, int whence) {
    off_t r = lseek(fd, off, whence);
    return r < 0 ? err() : std::to_string(r);
  };
  Facts f;
  f.add("data_from_0", where(0, SEEK_DATA));
  f.add("hole_from_0", where(0, SEEK_HOLE));
  f.add("hole_from_data", where(kAt, SEEK_HOLE));
  f.add("data_after_last", where(kAt + 8192, SEEK_DATA));
  f.add("data_at_eof", where(kSize, SEEK_DATA));
  f.add("hole_at_eof", where(kSize, SEEK_HOLE));
  close(fd);
  return f.str();
}

std::string c_seek_basic() {
  put("f", "0123456789");
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("end", lseek(fd, 0, SEEK_END));
  f.add("cur_back", lseek(fd, -3, SEEK_CUR));
  f.add("negative", rc(lseek(fd, -100, SEEK_SET)));
  f.add("past_end", lseek(fd, 20, SEEK_SET));
  write_all(fd, "x", "write past end");
  close(fd);
  f.add("size", lstat_or_fail("f").st_size).add("content", content("f"));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// unlink

std::string c_unlink_open_file() {
  put("f", "data");
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("unlink", rc(unlink("f")));
  f.add("exists", exists("f"));
  f.add("dir_entries", list_dir(".").size());
  struct stat s = fstat_or_fail(fd);
  f.add("nlink", s.st_nlink);
  f.add("content", show(read_fd(fd)));
  f.add("write_after", rc(pwrite(fd, "more", 4, 4)));
  f.add("content_after", show(read_fd(fd)));
  f.add("fchmod", rc(fchmod(fd, 0600)));
  f.add("mode", mode_str(fstat_or_fail(fd).st_mode));
  close(fd);
  f.add("dir_entries_after_close", list_dir(".").size());
  return f.str();
}

std::string c_unlink_errors() {
  mkdir_mode("d");
  put("f", "x");
  Facts f;
  f.add("dir", rc(unlink("d")));
  f.add("missing", rc(unlink("missing")));
  f.add("file_as_parent", rc(unlink("f/x")));
  f.add("trailing_slash", rc(unlink("f/")));
  return f.str();
}

std::string c_unlink_parent_times() {
  mkdir_mode("d");
  put("d/f", "x");
  set_past("d");
  struct stat before = lstat_or_fail("d");
  tick();
  need(unlink("d/f") == 0, "unlink");
  struct stat after = lstat_or_fail("d");
  Facts f;
  f.add("mtime_advanced", after_past(after.st_mtim));
  f.add("ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  return f.str();
}

std::string c_unlink_hardlink_keeps_data() {
  put("a", "data");
  need(link("a", "b") == 0, "link");
  Facts f;
  f.add("unlink", rc(unlink("a")));
  f.add("b_nlink", lstat_or_fail("b").st_nlink);
  f.add("b_content", content("b"));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// rename

std::string c_rename_file_over_file() {
  put("a", "A");
  put("b", "B");
  ino_t ino_a = lstat_or_fail("a").st_ino;
  int fd_b = open_or_fail("b", O_RDONLY);
  Facts f;
  f.add("rename", rc(rename("a", "b")));
  f.add("a", exists("a"));
  struct stat sb = lstat_or_fail("b");
  f.add("b_content", content("b")).add("b_is_old_a", sb.st_ino == ino_a);
  struct stat old_b = fstat_or_fail(fd_b);
  f.add("old_b_nlink", old_b.st_nlink);
  f.add("old_b_content", show(read_fd(fd_b)));
  close(fd_b);
  f.add("entries", list_dir(".").size());
  return f.str();
}

std::string c_rename_dir_over_empty_dir() {
  mkdir_mode("s");
  put("s/x", "x");
  mkdir_mode("t");
  Facts f;
  f.add("rename", rc(rename("s", "t")));
  f.add("s", exists("s")).add("t_x", exists("t/x"));
  return f.str();
}

std::string c_rename_dir_over_nonempty_dir() {
  mkdir_mode("s");
  mkdir_mode("t");
  put("t/x", "x");
  Facts f;
  f.add("rename", rc(rename("s", "t")));
  f.add("s", exists("s")).add("t_x", exists("t/x"));
  return f.str();
}

std::string c_rename_file_over_dir() {
  put("f", "x");
  mkdir_mode("d");
  Facts f;
  f.add("rename", rc(rename("f", "d")));
  f.add("f", exists("f")).add("d_type", type_str(lstat_or_fail("d").st_mode));
  return f.str();
}

std::string c_rename_dir_over_file() {
  put("f", "x");
  mkdir_mode("d");
  Facts f;
  f.add("rename", rc(rename("d", "f")));
  f.add("d", exists("d")).add("f_type", type_str(lstat_or_fail("f").st_mode));
  return f.str();
}

std::string c_rename_into_own_subdir() {
  mkdir_mode("d");
  mkdir_mode("d/sub");
  Facts f;
  f.add("into_child", rc(rename("d", "d/x")));
  f.add("into_grandchild", rc(rename("d", "d/sub/x")));
  f.add("d", exists("d"));
  return f.str();
}

std::string c_rename_same_inode() {
  // POSIX: renaming a link onto another link of the same file does nothing, successfully.
  put("a", "x");
  need(link("a", "b") == 0, "link");
  Facts f;
  f.add("rename", rc(rename("a", "b")));
  f.add("a", exists("a")).add("b", exists("b"));
  f.add("nlink", lstat_or_fail("b").st_nlink);
  f.add("self", rc(rename("b", "b")));
  return f.str();
}

std::string c_rename_missing() {
  put("f", "x");
  Facts f;
  f.add("missing_source", rc(rename("missing", "x")));
  f.add("missing_target_dir", rc(rename("f", "missing/x")));
  f.add("dot", rc(rename(".", "x")));
  f.add("name_too_long", rc(rename("f", std::string(256, 'n').c_str())));
  return f.str();
}

std::string c_rename_noreplace() {
  put("a", "A");
  put("b", "B");
  Facts f;
  f.add("existing", rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE)));
  f.add("b_content", content("b"));
  f.add("new_name", rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE)));
  f.add("a", exists("a")).add("c_content", content("c"));
  return f.str();
}

std::string c_rename_exchange() {
  put("a", "A");
  put("b", "B");
  mkdir_mode("d");
  put("d/x", "x");
  ino_t ino_a = lstat_or_fail("a").st_ino;
  Facts f;
  f.add("files", rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE)));
  f.add("a_content", content("a")).add("b_content", content("b"));
  f.add("b_is_old_a", lstat_or_fail("b").st_ino == ino_a);
  f.add("file_dir", rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "d", RENAME_EXCHANGE)));
  f.add("a_type", type_str(lstat_or_fail("a").st_mode)).add("a_x", exists("a/x"));
  f.add("d_type", type_str(lstat_or_fail("d").st_mode));
  f.add("missing", rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "missing", RENAME_EXCHANGE)));
  f.add("with_noreplace",
        rc(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE)));
  return f.str();
}

std::string c_rename_dir_nlink() {
  mkdir_mode("p1");
  mkdir_mode("p2");
  mkdir_mode("p1/d");
  Facts f;
  // Stat first so that any attribute cache holds the pre-rename counts.
  f.add("p1_before", lstat_or_fail("p1").st_nlink);
  f.add("p2_before", lstat_or_fail("p2").st_nlink);
  f.add("rename", rc(rename("p1/d", "p2/d")));
  f.add("p1_after", lstat_or_fail("p1").st_nlink);
  f.add("p2_after", lstat_or_fail("p2").st_nlink);
  f.add("dotdot_is_p2", lstat_or_fail("p2/d/..").st_ino == lstat_or_fail("p2").st_ino);
  return f.str();
}

std::string c_rename_times() {
  mkdir_mode("d");
  put("d/f", "x");
  set_past("d");
  struct stat file_before = lstat_or_fail("d/f");
  struct stat dir_before = lstat_or_fail("d");
  tick();
  need(rename("d/f", "d/g") == 0, "rename");
  struct stat file_after = lstat_or_fail("d/g");
  struct stat dir_after = lstat_or_fail("d");
  Facts f;
  f.add("file_ctime_advanced", ts_after(file_after.st_ctim, file_before.st_ctim));
  f.add("file_same_inode", file_after.st_ino == file_before.st_ino);
  f.add("dir_mtime_advanced", after_past(dir_after.st_mtim));
  f.add("dir_ctime_advanced", ts_after(dir_after.st_ctim, dir_before.st_ctim));
  return f.str();
}

std::string c_rename_symlink() {
  need(symlink("target", "l") == 0, "symlink");
  Facts f;
  f.add("rename", rc(rename("l", "m")));
  char buf[64] = {};
  ssize_t n = readlink("m", buf, sizeof buf - 1);
  f.add("readlink", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Hard links

std::string c_link_nlink() {
  put("a", "x");
  Facts f;
  f.add("link", rc(link("a", "b")));
  struct stat sa = lstat_or_fail("a");
  struct stat sb = lstat_or_fail("b");
  f.add("a_nlink", sa.st_nlink).add("b_nlink", sb.st_nlink);
  f.add("same_inode", sa.st_ino == sb.st_ino);
  f.add("unlink_a", rc(unlink("a")));
  f.add("b_nlink_after", lstat_or_fail("b").st_nlink);
  return f.str();
}

std::string c_link_nlink_seen_via_other_name() {
  // The cache-staleness probe: every count is read through a name that was not touched.
  put("a", "x");
  need(link("a", "b") == 0, "link");
  Facts f;
  f.add("b", lstat_or_fail("b").st_nlink);
  need(link("a", "c") == 0, "link c");
  f.add("b_after_link", lstat_or_fail("b").st_nlink);
  need(unlink("c") == 0, "unlink c");
  f.add("b_after_unlink", lstat_or_fail("b").st_nlink);
  need(unlink("a") == 0, "unlink a");
  f.add("b_after_unlink_a", lstat_or_fail("b").st_nlink);
  return f.str();
}

std::string c_link_attrs_seen_via_other_name() {
  put("a", "x", 0644);
  need(link("a", "b") == 0, "link");
  struct stat b0 = lstat_or_fail("b");  // prime any cache of b
  tick();
  Facts f;
  f.add("chmod", rc(chmod("a", 0600)));
  struct stat b1 = lstat_or_fail("b");
  f.add("mode", mode_str(b1.st_mode)).add("ctime_advanced", ts_after(b1.st_ctim, b0.st_ctim));
  f.add("chown", rc(chown("a", kUser, kUserGroup)));
  struct stat b2 = lstat_or_fail("b");
  f.add("uid", b2.st_uid).add("gid", b2.st_gid);
  int fd = open_or_fail("a", O_WRONLY | O_APPEND);
  write_all(fd, "yz", "append");
  close(fd);
  f.add("size", lstat_or_fail("b").st_size);
  timespec ts[2] = {{kPast, 111}, {kPast, 222}};
  f.add("utimens", rc(utimensat(AT_FDCWD, "a", ts, 0)));
  struct stat b3 = lstat_or_fail("b");
  f.add("mtime_matches", ts_equal(b3.st_mtim, ts[1]));
  return f.str();
}

std::string c_link_errors() {
  put("f", "x");
  put("g", "y");
  mkdir_mode("d");
  Facts f;
  f.add("dir", rc(link("d", "d2")));
  f.add("existing", rc(link("f", "g")));
  f.add("missing", rc(link("missing", "m")));
  f.add("into_missing_dir", rc(link("f", "missing/f")));
  return f.str();
}

std::string c_link_symlink() {
  // link(2) does not follow a symlink on Linux: the new name is a second link to the symlink.
  put("f", "x");
  need(symlink("f", "l") == 0, "symlink");
  Facts f;
  f.add("link", rc(link("l", "l2")));
  f.add("type", type_str(lstat_or_fail("l2").st_mode));
  f.add("l_nlink", lstat_or_fail("l").st_nlink);
  f.add("f_nlink", lstat_or_fail("f").st_nlink);
  f.add("linkat_follow", rc(linkat(AT_FDCWD, "l", AT_FDCWD, "l3", AT_SYMLINK_FOLLOW)));
  f.add("l3_type", type_str(lstat_or_fail("l3").st_mode));
  f.add("f_nlink_after", lstat_or_fail("f").st_nlink);
  return f.str();
}

std::string c_link_cross_dir() {
  put("f", "x");
  mkdir_mode("d");
  Facts f;
  f.add("link", rc(link("f", "d/f")));
  f.add("same_inode", lstat_or_fail("f").st_ino == lstat_or_fail("d/f").st_ino);
  f.add("nlink", lstat_or_fail("d/f").st_nlink);
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Symlinks

std::string c_symlink_readlink() {
  const char* target = "some/target path/../x";
  Facts f;
  f.add("symlink", rc(symlink(target, "l")));
  char buf[128] = {};
  ssize_t n = readlink("l", buf, sizeof buf);
  f.add("readlink", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  struct stat s = lstat_or_fail("l");
  f.add("type", type_str(s.st_mode)).add("size", s.st_size).add("mode", mode_str(s.st_mode));
  n = readlink("l", buf, 4);
  f.add("short_buffer", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  return f.str();
}

std::string c_symlink_stat_vs_lstat() {
  put("f", "hello");
  need(symlink("f", "l") == 0, "symlink");
  struct stat s = stat_or_fail("l");
  struct stat ls = lstat_or_fail("l");
  Facts f;
  f.add("stat_type", type_str(s.st_mode)).add("stat_size", s.st_size);
  f.add("stat_is_target", s.st_ino == lstat_or_fail("f").st_ino);
  f.add("lstat_type", type_str(ls.st_mode)).add("lstat_size", ls.st_size);
  return f.str();
}

std::string c_symlink_dangling() {
  need(symlink("nowhere", "l") == 0, "symlink");
  struct stat s {};
  Facts f;
  f.add("stat", rc(stat("l", &s)));
  f.add("lstat", rc(lstat("l", &s)));
  f.add("access", rc(access("l", F_OK)));
  f.add("open", rc_close(open("l", O_RDONLY)));
  char buf[32];
  f.add("readlink", rc(readlink("l", buf, sizeof buf)));
  return f.str();
}

std::string c_symlink_loop() {
  need(symlink("b", "a") == 0, "symlink a");
  need(symlink("a", "b") == 0, "symlink b");
  need(symlink("s", "s") == 0, "symlink s");
  struct stat s {};
  Facts f;
  f.add("stat", rc(stat("a", &s)));
  f.add("open", rc_close(open("a", O_RDONLY)));
  f.add("self", rc(stat("s", &s)));
  f.add("lstat", rc(lstat("a", &s)));
  f.add("through", rc(stat("a/x", &s)));
  return f.str();
}

std::string c_symlink_lchown() {
  put("f", "x");
  need(symlink("f", "l") == 0, "symlink");
  Facts f;
  f.add("lchown", rc(lchown("l", kUser, kUserGroup)));
  struct stat ls = lstat_or_fail("l");
  struct stat fs = lstat_or_fail("f");
  f.add("link_uid", ls.st_uid).add("link_gid", ls.st_gid);
  f.add("target_uid", fs.st_uid).add("target_gid", fs.st_gid);
  f.add("chown_follows", rc(chown("l", kNobody, kNobodyGroup)));
  f.add("link_uid_after", lstat_or_fail("l").st_uid);
  f.add("target_uid_after", lstat_or_fail("f").st_uid);
  return f.str();
}

std::string c_symlink_errors() {
  put("f", "x");
  Facts f;
  f.add("existing", rc(symlink("x", "f")));
  char buf[32];
  f.add("readlink_file", rc(readlink("f", buf, sizeof buf)));
  f.add("readlink_missing", rc(readlink("missing", buf, sizeof buf)));
  f.add("empty_target", rc(symlink("", "e")));
  return f.str();
}

std::string c_symlink_long_target() {
  std::string t4095(4095, 'x');
  std::string t4096(4096, 'x');
  for (size_t i = 100; i < t4095.size(); i += 100) {
    t4095[i] = '/';
    t4096[i] = '/';
  }
  Facts f;
  f.add("len4095", rc(symlink(t4095.c_str(), "a")));
  std::string buf(8192, '\0');
  ssize_t n = readlink("a", buf.data(), buf.size());
  f.add("readlink_len", n < 0 ? err() : std::to_string(n));
  f.add("match", n == 4095 && buf.compare(0, 4095, t4095) == 0);
  f.add("len4096", rc(symlink(t4096.c_str(), "b")));
  return f.str();
}

std::string c_symlink_to_dir() {
  mkdir_mode("d");
  need(symlink("d", "l") == 0, "symlink");
  Facts f;
  f.add("create_through", rc_close(open("l/f", O_WRONLY | O_CREAT, 0644)));
  f.add("d_f", exists("d/f"));
  f.add("rmdir_link", rc(rmdir("l")));
  f.add("unlink_link", rc(unlink("l")));
  f.add("d", exists("d"));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Directories

std::string c_dir_mkdir_exists() {
  mkdir_mode("d");
  put("f", "x");
  need(symlink("nowhere", "l") == 0, "symlink");
  Facts f;
  f.add("dir", rc(mkdir("d", 0755)));
  f.add("file", rc(mkdir("f", 0755)));
  f.add("dangling_symlink", rc(mkdir("l", 0755)));
  f.add("missing_parent", rc(mkdir("missing/d", 0755)));
  f.add("file_parent", rc(mkdir("f/d", 0755)));
  return f.str();
}

std::string c_dir_rmdir_errors() {
  mkdir_mode("d");
  put("d/x", "x");
  mkdir_mode("e");
  put("f", "x");
  Facts f;
  f.add("nonempty", rc(rmdir("d")));
  f.add("file", rc(rmdir("f")));
  f.add("missing", rc(rmdir("missing")));
  f.add("dot", rc(rmdir("e/.")));
  f.add("dotdot", rc(rmdir("d/..")));
  f.add("empty", rc(rmdir("e")));
  f.add("e", exists("e"));
  return f.str();
}

std::string c_dir_nlink() {
  mkdir_mode("d");
  Facts f;
  f.add("empty", lstat_or_fail("d").st_nlink);
  mkdir_mode("d/a");
  mkdir_mode("d/b");
  put("d/file", "x");
  f.add("two_subdirs", lstat_or_fail("d").st_nlink);
  need(rmdir("d/a") == 0, "rmdir");
  f.add("one_subdir", lstat_or_fail("d").st_nlink);
  f.add("subdir", lstat_or_fail("d/b").st_nlink);
  return f.str();
}

std::string c_dir_parent_times_on_create() {
  mkdir_mode("d");
  Facts f;
  const char* what[] = {"file", "dir", "symlink", "fifo"};
  for (int i = 0; i < 4; ++i) {
    set_past("d");
    struct stat before = lstat_or_fail("d");
    tick();
    switch (i) {
      case 0:
        put("d/f", "x");
        break;
      case 1:
        mkdir_mode("d/s");
        break;
      case 2:
        need(symlink("x", "d/l") == 0, "symlink");
        break;
      default:
        need(mkfifo("d/p", 0644) == 0, "mkfifo");
        break;
    }
    struct stat after = lstat_or_fail("d");
    f.add(std::string(what[i]) + "_mtime_advanced", after_past(after.st_mtim));
    f.add(std::string(what[i]) + "_ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  }
  return f.str();
}

std::string c_dir_removed_while_open() {
  mkdir_mode("d");
  int fd = open_or_fail("d", O_RDONLY | O_DIRECTORY);
  Facts f;
  f.add("rmdir", rc(rmdir("d")));
  struct stat s {};
  f.add("fstat", fstat(fd, &s) == 0 ? strf("nlink:%lu", static_cast<unsigned long>(s.st_nlink)) : err());
  char buf[4096];
  long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
  f.add("getdents", n < 0 ? err() : std::to_string(n));
  f.add("create_in_removed", rc_close(openat(fd, "x", O_WRONLY | O_CREAT, 0644)));
  close(fd);
  return f.str();
}

std::string c_dir_setgid_inheritance() {
  mkdir_mode("d", 02775);
  need(chown("d", 0, kOtherGroup) == 0, "chown d");
  need(chmod("d", 02777) == 0, "chmod d");
  Facts f;
  f.add("file", rc_close(open("d/f", O_WRONLY | O_CREAT, 0644)));
  f.add("dir", rc(mkdir("d/s", 0755)));
  struct stat sf = lstat_or_fail("d/f");
  struct stat ss = lstat_or_fail("d/s");
  f.add("file_gid", sf.st_gid).add("file_mode", mode_str(sf.st_mode));
  f.add("dir_gid", ss.st_gid).add("dir_mode", mode_str(ss.st_mode));
  if (g_root) {
    f.add("user_file", as_user(kUser, [] {
      int fd = open("d/u", O_WRONLY | O_CREAT, 0644);
      if (fd < 0) {
        return err();
      }
      struct stat s = fstat_or_fail(fd);
      close(fd);
      return strf("uid:%u,gid:%u", s.st_uid, s.st_gid);
    }));
  }
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Ownership and permissions (need root to set up and to drop privileges)

std::string c_perm_new_file_owner() {
  put("r", "x");
  struct stat rs = lstat_or_fail("r");
  Facts f;
  f.add("root", strf("%u:%u", rs.st_uid, rs.st_gid));
  f.add("user", as_user(kUser, [] {
    put("u", "x");
    mkdir_mode("ud");
    need(symlink("x", "ul") == 0, "symlink");
    struct stat s = lstat_or_fail("u");
    struct stat d = lstat_or_fail("ud");
    struct stat l = lstat_or_fail("ul");
    return strf("file:%u:%u,dir:%u:%u,symlink:%u:%u", s.st_uid, s.st_gid, d.st_uid, d.st_gid,
                l.st_uid, l.st_gid);
  }));
  return f.str();
}

std::string c_perm_chmod_not_owner() {
  put("f", "x", 0644);
  Facts f;
  f.add("chmod", as_user(kUser, [] { return rc(chmod("f", 0666)); }));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  return f.str();
}

std::string c_perm_chown_rules() {
  put("f", "x", 0644);
  need(chown("f", kUser, kUserGroup) == 0, "chown");
  Facts f;
  f.add("to_other_uid", as_user(kUser, [] { return rc(chown("f", kNobody, static_cast<gid_t>(-1))); }));
  f.add("to_self_noop", as_user(kUser, [] { return rc(chown("f", kUser, static_cast<gid_t>(-1))); }));
  f.add("chgrp_not_member", as_user(kUser, [] { return rc(chown("f", static_cast<uid_t>(-1), kOtherGroup)); }));
  f.add("chgrp_supplementary", as_user(kUser, kUserGroup, {kUserGroup, kOtherGroup}, [] {
    return rc(chown("f", static_cast<uid_t>(-1), kOtherGroup));
  }));
  struct stat s = lstat_or_fail("f");
  f.add("uid", s.st_uid).add("gid", s.st_gid);
  f.add("chown_not_owner", as_user(kNobody, [] { return rc(chown("f", kNobody, kNobodyGroup)); }));
  return f.str();
}

std::string c_perm_chown_clears_setid() {
  // chown clears setuid, and setgid when group-exec is set, even when root does it.
  put("f", "x", 06755);
  put("g", "x", 02745);  // setgid without group-exec: mandatory-locking marker, kept
  Facts f;
  f.add("chown", rc(chown("f", kUser, kUserGroup)));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  f.add("chown_g", rc(chown("g", kUser, kUserGroup)));
  f.add("mode_g", mode_str(lstat_or_fail("g").st_mode));
  f.add("chown_noop", rc(chown("f", static_cast<uid_t>(-1), static_cast<gid_t>(-1))));
  return f.str();
}

std::string c_perm_write_clears_setid() {
  // A write by someone without CAP_FSETID clears setuid, and setgid when group-exec is set or
  // (current kernels) when the writer is not in the file's group; root's own write keeps both.
  put("f", "x", 06777);
  put("g", "x", 06767);  // no group-exec; the writer is not in group 0
  Facts f;
  f.add("write", as_user(kUser, [] {
    int fd = open("f", O_WRONLY);
    if (fd < 0) {
      return err();
    }
    std::string r = rc(write(fd, "y", 1));
    close(fd);
    return r;
  }));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  f.add("write_g", as_user(kUser, [] {
    int fd = open("g", O_WRONLY);
    if (fd < 0) {
      return err();
    }
    std::string r = rc(write(fd, "y", 1));
    close(fd);
    return r;
  }));
  f.add("mode_g", mode_str(lstat_or_fail("g").st_mode));
  put("r", "x", 06777);
  int fd = open_or_fail("r", O_WRONLY);
  write_all(fd, "y", "root write");
  close(fd);
  f.add("mode_after_root_write", mode_str(lstat_or_fail("r").st_mode));
  return f.str();
}

std::string c_perm_truncate_clears_setid() {
  put("f", "xyz", 06777);
  Facts f;
  f.add("truncate", as_user(kUser, [] { return rc(truncate("f", 1)); }));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  return f.str();
}

std::string c_perm_chmod_setgid_not_member() {
  // The owner may chmod g+s only when in the file's group; otherwise the bit is silently dropped.
  put("f", "x", 0755);
  need(chown("f", kUser, kOtherGroup) == 0, "chown");
  Facts f;
  f.add("chmod", as_user(kUser, [] { return rc(chmod("f", 02755)); }));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  f.add("chmod_member", as_user(kUser, kUserGroup, {kUserGroup, kOtherGroup}, [] { return rc(chmod("f", 02755)); }));
  f.add("mode_member", mode_str(lstat_or_fail("f").st_mode));
  return f.str();
}

std::string c_perm_sticky_dir() {
  mkdir_mode("s", 01777);
  Facts f;
  f.add("owner_creates", as_user(kUser, [] {
    put("s/f", "x");
    mkdir_mode("s/d");
    return std::string("ok");
  }));
  f.add("other_unlink", as_user(kNobody, [] { return rc(unlink("s/f")); }));
  f.add("other_rename", as_user(kNobody, [] { return rc(rename("s/f", "s/g")); }));
  f.add("other_rename_over", as_user(kNobody, [] {
    put("s/n", "n");
    return rc(rename("s/n", "s/f"));
  }));
  f.add("other_rmdir", as_user(kNobody, [] { return rc(rmdir("s/d")); }));
  f.add("other_unlink_own", as_user(kNobody, [] { return rc(unlink("s/n")); }));
  f.add("owner_unlink", as_user(kUser, [] { return rc(unlink("s/f")); }));
  f.add("root_rmdir", rc(rmdir("s/d")));
  return f.str();
}

std::string c_perm_access_root_file() {
  put("f", "secret", 0600);
  Facts f;
  f.add("access_r", as_user(kUser, [] { return rc(access("f", R_OK)); }));
  f.add("access_f", as_user(kUser, [] { return rc(access("f", F_OK)); }));
  f.add("open_r", as_user(kUser, [] { return rc_close(open("f", O_RDONLY)); }));
  f.add("open_w", as_user(kUser, [] { return rc_close(open("f", O_WRONLY)); }));
  f.add("stat", as_user(kUser, [] {
    struct stat s {};
    return rc(stat("f", &s));
  }));
  return f.str();
}

std::string c_perm_root_override() {
  // Root bypasses rw bits but not "no x bit at all"; faccessat(AT_EACCESS) agrees.
  put("none", "x", 0000);
  put("rw", "x", 0644);
  put("x", "x", 0100);
  Facts f;
  f.add("read_0000", rc_close(open("none", O_RDONLY)));
  f.add("write_0000", rc_close(open("none", O_WRONLY)));
  f.add("access_x_0644", rc(access("rw", X_OK)));
  f.add("access_x_0100", rc(access("x", X_OK)));
  f.add("access_rw_0000", rc(access("none", R_OK | W_OK)));
  return f.str();
}

std::string c_perm_modes_for_user() {
  put("r", "x", 0444);
  put("w", "x", 0222);
  put("n", "x", 0640);
  need(chown("n", 0, kOtherGroup) == 0, "chown");
  Facts f;
  f.add("write_0444", as_user(kUser, [] { return rc_close(open("r", O_WRONLY)); }));
  f.add("read_0444", as_user(kUser, [] { return rc_close(open("r", O_RDONLY)); }));
  f.add("read_0222", as_user(kUser, [] { return rc_close(open("w", O_RDONLY)); }));
  f.add("write_0222", as_user(kUser, [] { return rc_close(open("w", O_WRONLY)); }));
  f.add("group_read_nonmember", as_user(kUser, [] { return rc_close(open("n", O_RDONLY)); }));
  f.add("group_read_member", as_user(kUser, kUserGroup, {kUserGroup, kOtherGroup},
                                     [] { return rc_close(open("n", O_RDONLY)); }));
  f.add("group_write_member", as_user(kUser, kUserGroup, {kUserGroup, kOtherGroup},
                                      [] { return rc_close(open("n", O_WRONLY)); }));
  return f.str();
}

std::string c_perm_owner_denied_by_owner_bits() {
  // Owner bits apply to the owner even when group/other bits would allow.
  put("f", "x", 0066);
  need(chown("f", kUser, kUserGroup) == 0, "chown");
  Facts f;
  f.add("owner_read", as_user(kUser, [] { return rc_close(open("f", O_RDONLY)); }));
  f.add("other_read", as_user(kNobody, [] { return rc_close(open("f", O_RDONLY)); }));
  return f.str();
}

std::string c_perm_dir_search() {
  mkdir_mode("closed", 0700);
  put("closed/f", "x");
  mkdir_mode("searchonly", 0711);
  put("searchonly/f", "x");
  mkdir_mode("readonly", 0755);
  Facts f;
  f.add("stat_in_0700", as_user(kUser, [] {
    struct stat s {};
    return rc(stat("closed/f", &s));
  }));
  f.add("list_0700", as_user(kUser, [] { return rc_close(open("closed", O_RDONLY | O_DIRECTORY)); }));
  f.add("stat_in_0711", as_user(kUser, [] {
    struct stat s {};
    return rc(stat("searchonly/f", &s));
  }));
  f.add("list_0711", as_user(kUser, [] {
    DIR* d = opendir("searchonly");
    if (d == nullptr) {
      return err();
    }
    closedir(d);
    return std::string("ok");
  }));
  f.add("create_in_0755", as_user(kUser, [] { return rc_close(open("readonly/n", O_WRONLY | O_CREAT, 0644)); }));
  f.add("mkdir_in_0755", as_user(kUser, [] { return rc(mkdir("readonly/n", 0755)); }));
  f.add("unlink_in_0711", as_user(kUser, [] { return rc(unlink("searchonly/f")); }));
  return f.str();
}

std::string c_perm_utimes_rules() {
  put("f", "x", 0666);
  need(chown("f", kUser, kUserGroup) == 0, "chown");
  put("ro", "x", 0644);
  need(chown("ro", kUser, kUserGroup) == 0, "chown");
  Facts f;
  f.add("explicit_not_owner", as_user(kNobody, [] {
    timespec ts[2] = {{kPast, 0}, {kPast, 0}};
    return rc(utimensat(AT_FDCWD, "f", ts, 0));
  }));
  f.add("now_writable", as_user(kNobody, [] { return rc(utimensat(AT_FDCWD, "f", nullptr, 0)); }));
  f.add("now_not_writable", as_user(kNobody, [] { return rc(utimensat(AT_FDCWD, "ro", nullptr, 0)); }));
  f.add("explicit_owner", as_user(kUser, [] {
    timespec ts[2] = {{kPast, 0}, {kPast, 0}};
    return rc(utimensat(AT_FDCWD, "ro", ts, 0));
  }));
  return f.str();
}

std::string c_perm_xattr_rules() {
  put("f", "x", 0644);
  put("w", "x", 0666);
  need(setxattr("f", "user.a", "1", 1, 0) == 0 || errno == ENOTSUP, "setxattr");
  Facts f;
  f.add("set_not_writable", as_user(kUser, [] { return rc(setxattr("f", "user.b", "1", 1, 0)); }));
  f.add("get_readable", as_user(kUser, [] {
    char b[8];
    return rc(getxattr("f", "user.a", b, sizeof b));
  }));
  f.add("set_writable", as_user(kUser, [] { return rc(setxattr("w", "user.b", "1", 1, 0)); }));
  f.add("set_trusted", as_user(kUser, [] { return rc(setxattr("w", "trusted.b", "1", 1, 0)); }));
  return f.str();
}

std::string c_perm_kill_on_nonroot_chown() {
  // A non-root owner changing the group to one of its groups also clears setuid/setgid.
  put("f", "x", 06755);
  need(chown("f", kUser, kUserGroup) == 0, "chown");
  need(chmod("f", 06755) == 0, "chmod");
  Facts f;
  f.add("chgrp", as_user(kUser, kUserGroup, {kUserGroup, kOtherGroup}, [] {
    return rc(chown("f", static_cast<uid_t>(-1), kOtherGroup));
  }));
  f.add("mode", mode_str(lstat_or_fail("f").st_mode));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// chmod / chown / stat as root

std::string c_chmod_basic() {
  put("f", "x", 0644);
  struct stat before = lstat_or_fail("f");
  tick();
  Facts f;
  f.add("chmod", rc(chmod("f", 0640)));
  struct stat after = lstat_or_fail("f");
  f.add("mode", mode_str(after.st_mode)).add("ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  f.add("all_bits", rc(chmod("f", 07777)));
  f.add("mode2", mode_str(lstat_or_fail("f").st_mode));
  int fd = open_or_fail("f", O_RDONLY);
  f.add("fchmod", rc(fchmod(fd, 0400)));
  f.add("mode3", mode_str(fstat_or_fail(fd).st_mode));
  close(fd);
  need(symlink("f", "l") == 0, "symlink");
  f.add("chmod_via_symlink", rc(chmod("l", 0600)));
  f.add("target_mode", mode_str(lstat_or_fail("f").st_mode));
  f.add("fchmodat_nofollow", rc(fchmodat(AT_FDCWD, "l", 0600, AT_SYMLINK_NOFOLLOW)));
  return f.str();
}

std::string c_chown_basic() {
  put("f", "x", 0644);
  struct stat before = lstat_or_fail("f");
  tick();
  Facts f;
  f.add("chown", rc(chown("f", kUser, kOtherGroup)));
  struct stat after = lstat_or_fail("f");
  f.add("uid", after.st_uid).add("gid", after.st_gid);
  f.add("ctime_advanced", ts_after(after.st_ctim, before.st_ctim));
  f.add("uid_only", rc(chown("f", kNobody, static_cast<gid_t>(-1))));
  after = lstat_or_fail("f");
  f.add("uid2", after.st_uid).add("gid2", after.st_gid);
  int fd = open_or_fail("f", O_RDONLY);
  f.add("fchown", rc(fchown(fd, 0, 0)));
  after = fstat_or_fail(fd);
  close(fd);
  f.add("uid3", after.st_uid).add("gid3", after.st_gid);
  return f.str();
}

std::string c_stat_consistent() {
  put("f", "hello");
  int fd = open_or_fail("f", O_RDONLY);
  struct stat a = lstat_or_fail("f");
  struct stat b = stat_or_fail("f");
  struct stat c = fstat_or_fail(fd);
  struct statx x {};
  Facts f;
  f.add("statx", rc(statx(AT_FDCWD, "f", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &x)));
  close(fd);
  auto same = [](const struct stat& p, const struct stat& q) {
    return p.st_ino == q.st_ino && p.st_dev == q.st_dev && p.st_mode == q.st_mode &&
           p.st_nlink == q.st_nlink && p.st_uid == q.st_uid && p.st_gid == q.st_gid &&
           p.st_size == q.st_size && ts_equal(p.st_mtim, q.st_mtim) && ts_equal(p.st_ctim, q.st_ctim);
  };
  f.add("stat_eq_lstat", same(a, b)).add("fstat_eq_lstat", same(a, c));
  f.add("statx_eq", x.stx_ino == a.st_ino && x.stx_size == static_cast<uint64_t>(a.st_size) &&
                        x.stx_mode == a.st_mode && x.stx_nlink == a.st_nlink &&
                        makedev(x.stx_dev_major, x.stx_dev_minor) == a.st_dev);
  f.add("dev_same_as_dir", a.st_dev == lstat_or_fail(".").st_dev);
  f.add("dot_is_cwd", lstat_or_fail(".").st_ino == stat_or_fail("./.").st_ino);
  return f.str();
}

std::string c_stat_statx_btime() {
  put("f", "x");
  struct statx x {};
  Facts f;
  f.add("statx", rc(statx(AT_FDCWD, "f", 0, STATX_BTIME, &x)));
  bool has = (x.stx_mask & STATX_BTIME) != 0;
  f.add("btime", has);
  if (has) {
    f.add("btime_recent", recent({x.stx_btime.tv_sec, 0}));
  }
  return f.str();
}

std::string c_stat_blocks_after_write() {
  std::string data(65536, 'b');
  put("f", data);
  int fd = open_or_fail("f", O_RDONLY);
  need(fsync(fd) == 0, "fsync");
  close(fd);
  struct stat s = lstat_or_fail("f");
  Facts f;
  f.add("blocks_cover_size", s.st_blocks * 512 >= 65536);
  f.add("blksize_positive", s.st_blksize > 0);
  return f.str();
}

std::string c_stat_ino_stable() {
  put("f", "x");
  mkdir_mode("d");
  ino_t ino = lstat_or_fail("f").st_ino;
  need(rename("f", "d/g") == 0, "rename");
  Facts f;
  f.add("after_rename", lstat_or_fail("d/g").st_ino == ino);
  need(rename("d/g", "f") == 0, "rename back");
  f.add("after_rename_back", lstat_or_fail("f").st_ino == ino);
  put("other", "y");
  f.add("distinct", lstat_or_fail("other").st_ino != ino);
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// utimensat

std::string c_utimes_explicit() {
  put("f", "x");
  timespec ts[2] = {{1234567890, 123456789}, {1300000000, 987654321}};
  Facts f;
  f.add("utimensat", rc(utimensat(AT_FDCWD, "f", ts, 0)));
  struct stat s = lstat_or_fail("f");
  f.add("atime_exact", ts_equal(s.st_atim, ts[0])).add("mtime_exact", ts_equal(s.st_mtim, ts[1]));
  f.add("atime_sec", s.st_atim.tv_sec == ts[0].tv_sec).add("mtime_sec", s.st_mtim.tv_sec == ts[1].tv_sec);
  f.add("ctime_recent", recent(s.st_ctim));
  return f.str();
}

std::string c_utimes_omit_now() {
  put("f", "x");
  timespec ts[2] = {{1234567890, 5000}, {1300000000, 7000}};
  need(utimensat(AT_FDCWD, "f", ts, 0) == 0, "utimensat");
  timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  Facts f;
  f.add("omit_atime_now_mtime", rc(utimensat(AT_FDCWD, "f", omit_now, 0)));
  struct stat s = lstat_or_fail("f");
  f.add("atime_kept", ts_equal(s.st_atim, ts[0])).add("mtime_now", recent(s.st_mtim));
  timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  need(utimensat(AT_FDCWD, "f", ts, 0) == 0, "utimensat");
  f.add("now_atime_omit_mtime", rc(utimensat(AT_FDCWD, "f", now_omit, 0)));
  s = lstat_or_fail("f");
  f.add("atime_now", recent(s.st_atim)).add("mtime_kept", ts_equal(s.st_mtim, ts[1]));
  need(utimensat(AT_FDCWD, "f", ts, 0) == 0, "utimensat");
  struct stat before = lstat_or_fail("f");
  tick();
  timespec omit_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  f.add("omit_both", rc(utimensat(AT_FDCWD, "f", omit_omit, 0)));
  s = lstat_or_fail("f");
  f.add("both_kept", ts_equal(s.st_atim, ts[0]) && ts_equal(s.st_mtim, ts[1]));
  f.add("ctime_kept", ts_equal(s.st_ctim, before.st_ctim));
  f.add("null_times", rc(utimensat(AT_FDCWD, "f", nullptr, 0)));
  s = lstat_or_fail("f");
  f.add("both_now", recent(s.st_atim) && recent(s.st_mtim));
  timespec bad[2] = {{0, 1000000000}, {0, 0}};
  f.add("bad_nsec", rc(utimensat(AT_FDCWD, "f", bad, 0)));
  return f.str();
}

std::string c_utimes_symlink_nofollow() {
  put("f", "x");
  need(symlink("f", "l") == 0, "symlink");
  timespec target[2] = {{1234567890, 0}, {1234567890, 0}};
  need(utimensat(AT_FDCWD, "f", target, 0) == 0, "utimensat f");
  timespec ts[2] = {{1300000000, 0}, {1300000000, 0}};
  Facts f;
  f.add("nofollow", rc(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW)));
  f.add("link_mtime_set", lstat_or_fail("l").st_mtim.tv_sec == 1300000000);
  f.add("target_untouched", lstat_or_fail("f").st_mtim.tv_sec == 1234567890);
  return f.str();
}

std::string c_utimes_futimens() {
  put("f", "x");
  int fd = open_or_fail("f", O_RDONLY);
  timespec ts[2] = {{1234567890, 1}, {1300000000, 2}};
  Facts f;
  f.add("futimens", rc(futimens(fd, ts)));
  struct stat s = fstat_or_fail(fd);
  close(fd);
  f.add("atime_exact", ts_equal(s.st_atim, ts[0])).add("mtime_exact", ts_equal(s.st_mtim, ts[1]));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Extended attributes

std::string c_xattr_set_get() {
  put("f", "x");
  Facts f;
  f.add("set", rc(setxattr("f", "user.test", "value", 5, 0)));
  char buf[64] = {};
  ssize_t n = getxattr("f", "user.test", buf, sizeof buf);
  f.add("get", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  f.add("size_query", getxattr("f", "user.test", nullptr, 0));
  f.add("small_buffer", rc(getxattr("f", "user.test", buf, 2)));
  f.add("binary", rc(setxattr("f", "user.bin", "\0\1\2", 3, 0)));
  n = getxattr("f", "user.bin", buf, sizeof buf);
  f.add("get_binary", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  f.add("empty", rc(setxattr("f", "user.empty", "", 0, 0)));
  f.add("get_empty", getxattr("f", "user.empty", buf, sizeof buf));
  return f.str();
}

std::string c_xattr_list() {
  put("f", "x");
  need(setxattr("f", "user.b", "2", 1, 0) == 0 || errno == ENOTSUP, "setxattr");
  need(setxattr("f", "user.a", "1", 1, 0) == 0 || errno == ENOTSUP, "setxattr");
  char buf[4096];
  ssize_t n = listxattr("f", buf, sizeof buf);
  if (n < 0) {
    return err();
  }
  std::vector<std::string> names;
  for (ssize_t off = 0; off < n; off += static_cast<ssize_t>(strlen(buf + off)) + 1) {
    // Only user.*: security.selinux or system.posix_acl_* depend on the host, not on the mount.
    if (strncmp(buf + off, "user.", 5) == 0) {
      names.emplace_back(buf + off);
    }
  }
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& name : names) {
    joined += (joined.empty() ? "" : ",") + name;
  }
  Facts f;
  f.add("user_names", joined.empty() ? "<none>" : joined);
  ssize_t size = listxattr("f", nullptr, 0);
  f.add("size_query_matches", size == n);
  f.add("small_buffer", rc(listxattr("f", buf, 1)));
  return f.str();
}

std::string c_xattr_errors() {
  put("f", "x");
  need(setxattr("f", "user.present", "1", 1, 0) == 0 || errno == ENOTSUP, "setxattr");
  char buf[16];
  Facts f;
  f.add("get_missing", rc(getxattr("f", "user.missing", buf, sizeof buf)));
  f.add("create_existing", rc(setxattr("f", "user.present", "2", 1, XATTR_CREATE)));
  f.add("replace_missing", rc(setxattr("f", "user.missing", "2", 1, XATTR_REPLACE)));
  f.add("replace_existing", rc(setxattr("f", "user.present", "3", 1, XATTR_REPLACE)));
  ssize_t n = getxattr("f", "user.present", buf, sizeof buf);
  f.add("value", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  f.add("remove", rc(removexattr("f", "user.present")));
  f.add("get_removed", rc(getxattr("f", "user.present", buf, sizeof buf)));
  f.add("remove_missing", rc(removexattr("f", "user.present")));
  f.add("unknown_namespace", rc(setxattr("f", "bogus.x", "1", 1, 0)));
  f.add("name_too_long", rc(setxattr("f", ("user." + std::string(255, 'n')).c_str(), "1", 1, 0)));
  f.add("get_on_missing_file", rc(getxattr("missing", "user.x", buf, sizeof buf)));
  return f.str();
}

std::string c_xattr_on_dir_and_symlink() {
  mkdir_mode("d");
  need(symlink("d", "l") == 0, "symlink");
  Facts f;
  f.add("dir", rc(setxattr("d", "user.x", "1", 1, 0)));
  f.add("lset_symlink", rc(lsetxattr("l", "user.x", "1", 1, 0)));
  f.add("set_via_symlink", rc(setxattr("l", "user.y", "2", 1, 0)));
  char buf[8];
  f.add("dir_has_y", rc(getxattr("d", "user.y", buf, sizeof buf)));
  f.add("lget_symlink", rc(lgetxattr("l", "user.y", buf, sizeof buf)));
  return f.str();
}

std::string c_xattr_fd_ops() {
  put("f", "x");
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("fset", rc(fsetxattr(fd, "user.f", "fd", 2, 0)));
  char buf[8] = {};
  ssize_t n = fgetxattr(fd, "user.f", buf, sizeof buf);
  f.add("fget", n < 0 ? err() : show(std::string_view(buf, static_cast<size_t>(n))));
  f.add("fremove", rc(fremovexattr(fd, "user.f")));
  close(fd);
  f.add("get_after", rc(getxattr("f", "user.f", buf, sizeof buf)));
  return f.str();
}

std::string c_xattr_large_value() {
  put("f", "x");
  std::string value(4000, 'v');
  Facts f;
  f.add("set", rc(setxattr("f", "user.big", value.data(), value.size(), 0)));
  std::string back(8192, '\0');
  ssize_t n = getxattr("f", "user.big", back.data(), back.size());
  f.add("get_len", n < 0 ? err() : std::to_string(n));
  std::string huge(70000, 'h');
  f.add("over_64k", rc(setxattr("f", "user.huge", huge.data(), huge.size(), 0)));
  return f.str();
}

std::string c_xattr_trusted() {
  put("f", "x");
  Facts f;
  f.add("root_set", rc(setxattr("f", "trusted.t", "1", 1, 0)));
  char buf[8];
  f.add("root_get", rc(getxattr("f", "trusted.t", buf, sizeof buf)));
  f.add("user_get", as_user(kUser, [] {
    char b[8];
    return rc(getxattr("f", "trusted.t", b, sizeof b));
  }));
  return f.str();
}

std::string c_xattr_posix_acl_absent() {
  put("f", "x");
  char buf[64];
  return Facts().add("access_acl", rc(getxattr("f", "system.posix_acl_access", buf, sizeof buf))).str();
}

// ---------------------------------------------------------------------------------------------
// readdir

std::string c_readdir_1000() {
  mkdir_mode("d");
  std::set<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    std::string name = strf("f%04d", i);
    put(("d/" + name).c_str(), "");
    expected.insert(name);
  }
  std::map<std::string, int> seen;
  int dtype_reg = 0;
  DIR* d = opendir("d");
  need(d != nullptr, "opendir");
  while (dirent* e = readdir(d)) {
    ++seen[e->d_name];
    if (e->d_type == DT_REG) {
      ++dtype_reg;
    }
  }
  closedir(d);
  int once = 0;
  int dupes = 0;
  int missing = 0;
  int extra = 0;
  for (const auto& name : expected) {
    auto it = seen.find(name);
    if (it == seen.end()) {
      ++missing;
    } else if (it->second == 1) {
      ++once;
    } else {
      ++dupes;
    }
  }
  for (const auto& [name, count] : seen) {
    if (name != "." && name != ".." && expected.count(name) == 0) {
      ++extra;
    }
  }
  Facts f;
  f.add("once", once).add("dupes", dupes).add("missing", missing).add("extra", extra);
  f.add("dot", seen["."]).add("dotdot", seen[".."]).add("dtype_reg", dtype_reg);
  return f.str();
}

std::string c_readdir_concurrent() {
  // Small getdents64 buffers force many calls per pass while another process creates and
  // unlinks other names: every name that exists throughout must be returned exactly once.
  constexpr int kStable = 400;
  constexpr int kPasses = 20;
  mkdir_mode("d");
  for (int i = 0; i < kStable; ++i) {
    put(strf("d/s%03d", i).c_str(), "");
  }
  int ready[2];
  need(pipe2(ready, O_CLOEXEC) == 0, "pipe");
  std::string problem;
  {
    Child churn([&] {
      close(ready[0]);
      for (long i = 0;; ++i) {
        std::string name = strf("d/t%ld", i);
        int fd = open(name.c_str(), O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) {
          close(fd);
        }
        if (i >= 20) {
          unlink(strf("d/t%ld", i - 20).c_str());
        }
        if (i == 50) {
          send_all(ready[1], "r");
          close(ready[1]);
        }
      }
    });
    close(ready[1]);
    char c;
    need(read(ready[0], &c, 1) == 1, "churn start");
    close(ready[0]);
    for (int pass = 0; pass < kPasses && problem.empty(); ++pass) {
      std::vector<int> seen(kStable, 0);
      int fd = open_or_fail("d", O_RDONLY | O_DIRECTORY);
      alignas(8) char buf[512];
      for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) {
          problem = "getdents_" + err();
          break;
        }
        if (n == 0) {
          break;
        }
        for (long off = 0; off < n;) {
          auto* e = reinterpret_cast<struct dirent64*>(buf + off);
          int idx = 0;
          if (e->d_name[0] == 's' && sscanf(e->d_name + 1, "%d", &idx) == 1 && idx >= 0 && idx < kStable) {
            ++seen[idx];
          }
          off += e->d_reclen;
        }
      }
      close(fd);
      for (int i = 0; i < kStable && problem.empty(); ++i) {
        if (seen[i] != 1) {
          problem = strf("s%03d_seen_%d_times_in_pass_%d", i, seen[i], pass);
        }
      }
    }
  }
  Facts f;
  f.add("passes", kPasses).add("stable", kStable);
  f.add("stable_exactly_once", problem.empty() ? std::string("yes") : problem);
  return f.str();
}

std::string c_readdir_d_type() {
  put("f", "x");
  mkdir_mode("d");
  need(symlink("f", "l") == 0, "symlink");
  need(mkfifo("p", 0644) == 0, "mkfifo");
  std::map<std::string, std::string> types;
  DIR* d = opendir(".");
  need(d != nullptr, "opendir");
  while (dirent* e = readdir(d)) {
    const char* t = "other";
    switch (e->d_type) {
      case DT_REG:
        t = "reg";
        break;
      case DT_DIR:
        t = "dir";
        break;
      case DT_LNK:
        t = "lnk";
        break;
      case DT_FIFO:
        t = "fifo";
        break;
      case DT_UNKNOWN:
        t = "unknown";
        break;
      default:
        break;
    }
    types[e->d_name] = t;
  }
  closedir(d);
  Facts f;
  for (const auto& [name, t] : types) {
    f.add(name == "." ? "dot" : name == ".." ? "dotdot" : name, t);
  }
  return f.str();
}

std::string c_readdir_ino_matches_stat() {
  put("f", "x");
  mkdir_mode("d");
  need(symlink("f", "l") == 0, "symlink");
  need(link("f", "h") == 0, "link");
  DIR* d = opendir(".");
  need(d != nullptr, "opendir");
  int match = 0;
  int total = 0;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, "..") == 0) {
      continue;  // ".." of a mount root is the covering directory's business
    }
    ++total;
    struct stat s {};
    if (lstat(e->d_name, &s) == 0 && s.st_ino == e->d_ino) {
      ++match;
    }
  }
  closedir(d);
  return Facts().add("match", strf("%d/%d", match, total)).str();
}

std::string c_readdir_seek_rewind() {
  mkdir_mode("d");
  for (int i = 0; i < 300; ++i) {
    put(strf("d/f%03d", i).c_str(), "");
  }
  DIR* d = opendir("d");
  need(d != nullptr, "opendir");
  std::string first;
  for (int i = 0; i < 150; ++i) {
    dirent* e = readdir(d);
    need(e != nullptr, "readdir");
    if (i == 0) {
      first = e->d_name;
    }
  }
  long pos = telldir(d);
  dirent* e = readdir(d);
  need(e != nullptr, "readdir");
  std::string next = e->d_name;
  for (int i = 0; i < 50; ++i) {
    readdir(d);
  }
  seekdir(d, pos);
  e = readdir(d);
  Facts f;
  f.add("seekdir_same", e != nullptr && next == e->d_name);
  put("d/new", "");
  rewinddir(d);
  e = readdir(d);
  f.add("rewind_same_first", e != nullptr && first == e->d_name);
  bool found_new = false;
  int count = 1;
  while ((e = readdir(d)) != nullptr) {
    ++count;
    found_new = found_new || strcmp(e->d_name, "new") == 0;
  }
  closedir(d);
  f.add("rewind_sees_new", found_new || first == "new").add("count_after_rewind", count);
  return f.str();
}

std::string c_readdir_empty_and_growing() {
  mkdir_mode("d");
  Facts f;
  f.add("empty", list_dir("d").size());
  put("d/a", "");
  f.add("after_create", list_dir("d").size());
  need(rename("d/a", "d/b") == 0, "rename");
  auto names = list_dir("d");
  f.add("after_rename", names.size() == 1 ? names[0] : std::to_string(names.size()));
  need(unlink("d/b") == 0, "unlink");
  f.add("after_unlink", list_dir("d").size());
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// mmap, sync, statfs, fallocate

std::string c_mmap_shared() {
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  need(ftruncate(fd, 4096) == 0, "ftruncate");
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  Facts f;
  f.add("mmap", p == MAP_FAILED ? err() : "ok");
  if (p != MAP_FAILED) {
    auto* m = static_cast<char*>(p);
    memcpy(m, "mapped", 6);
    f.add("msync", rc(msync(p, 4096, MS_SYNC)));
    char buf[8] = {};
    need(pread(fd, buf, 6, 0) == 6, "pread");
    f.add("read_sees_map", std::string(buf, 6) == "mapped");
    need(pwrite(fd, "WRITE", 5, 100) == 5, "pwrite");
    f.add("map_sees_write", memcmp(m + 100, "WRITE", 5) == 0);
    munmap(p, 4096);
  }
  close(fd);
  f.add("content_prefix", content("f").substr(0, 6));
  f.add("other_fd_sees", [&] {
    int fd2 = open_or_fail("f", O_RDONLY);
    char buf[8] = {};
    ssize_t n = pread(fd2, buf, 6, 0);
    close(fd2);
    return n == 6 && std::string(buf, 6) == "mapped";
  }());
  return f.str();
}

std::string c_mmap_private() {
  put("f", "original");
  int fd = open_or_fail("f", O_RDWR);
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  Facts f;
  f.add("mmap", p == MAP_FAILED ? err() : "ok");
  if (p != MAP_FAILED) {
    memcpy(p, "CHANGED!", 8);
    munmap(p, 4096);
  }
  close(fd);
  f.add("content", content("f"));
  return f.str();
}

std::string c_mmap_readonly_fd() {
  put("f", "x");
  int fd = open_or_fail("f", O_RDONLY);
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  Facts f;
  f.add("shared_write_on_rdonly", p == MAP_FAILED ? err() : "ok");
  if (p != MAP_FAILED) {
    munmap(p, 4096);
  }
  p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  f.add("shared_read", p == MAP_FAILED ? err() : "ok");
  if (p != MAP_FAILED) {
    f.add("byte", show(std::string_view(static_cast<char*>(p), 1)));
    munmap(p, 4096);
  }
  close(fd);
  return f.str();
}

std::string c_sync_calls() {
  put("f", "x");
  mkdir_mode("d");
  int fd = open_or_fail("f", O_RDWR);
  write_all(fd, "y", "write");
  Facts f;
  f.add("fsync", rc(fsync(fd)));
  f.add("fdatasync", rc(fdatasync(fd)));
  f.add("sync_file_range", rc(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)));
  f.add("syncfs", rc(syncfs(fd)));
  close(fd);
  int dfd = open_or_fail("d", O_RDONLY | O_DIRECTORY);
  f.add("fsync_dir", rc(fsync(dfd)));
  close(dfd);
  int ro = open_or_fail("f", O_RDONLY);
  f.add("fsync_rdonly", rc(fsync(ro)));
  close(ro);
  return f.str();
}

std::string c_statfs_basic() {
  struct statvfs v {};
  Facts f;
  f.add("statvfs", rc(statvfs(".", &v)));
  f.add("bsize_positive", v.f_bsize > 0).add("blocks_positive", v.f_blocks > 0);
  f.add("bfree_le_blocks", v.f_bfree <= v.f_blocks).add("bavail_le_bfree", v.f_bavail <= v.f_bfree);
  f.add("namemax", v.f_namemax);
  f.add("rdonly", (v.f_flag & ST_RDONLY) != 0);
  struct statvfs fv {};
  int fd = open_or_fail(".", O_RDONLY | O_DIRECTORY);
  f.add("fstatvfs", rc(fstatvfs(fd, &fv)));
  close(fd);
  return f.str();
}

std::string c_fallocate_extend() {
  int fd = open_or_fail("f", O_RDWR | O_CREAT | O_TRUNC);
  Facts f;
  f.add("fallocate", rc(fallocate(fd, 0, 0, 1 << 20)));
  struct stat s = fstat_or_fail(fd);
  f.add("size", s.st_size).add("allocated", s.st_blocks * 512 >= (1 << 20));
  f.add("reads_zero", read_fd(fd).find_first_not_of('\0') == std::string::npos);
  close(fd);
  f.add("size_by_path", lstat_or_fail("f").st_size);
  return f.str();
}

std::string c_fallocate_keep_size() {
  put("f", "abc");
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("fallocate", rc(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20)));
  struct stat s = fstat_or_fail(fd);
  f.add("size", s.st_size).add("allocated", s.st_blocks * 512 >= (1 << 20));
  close(fd);
  return f.str();
}

std::string c_fallocate_punch_hole() {
  std::string data(3 * 4096, 'x');
  put("f", data);
  int fd = open_or_fail("f", O_RDWR);
  need(fsync(fd) == 0, "fsync");
  blkcnt_t before = fstat_or_fail(fd).st_blocks;
  Facts f;
  f.add("punch", rc(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096)));
  struct stat s = fstat_or_fail(fd);
  std::string back = read_fd(fd);
  f.add("size", s.st_size);
  bool whole = back.size() == data.size();
  f.add("middle_zero", whole && back.substr(4096, 4096).find_first_not_of('\0') == std::string::npos);
  f.add("ends_kept", whole && back[0] == 'x' && back[4095] == 'x' && back[8192] == 'x' && back[12287] == 'x');
  f.add("blocks_reduced", s.st_blocks < before);
  f.add("punch_without_keep_size", rc(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096)));
  close(fd);
  return f.str();
}

std::string c_fallocate_zero_range() {
  put("f", std::string(3 * 4096, 'x'));
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("zero_range", rc(fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096, 4096)));
  std::string back = read_fd(fd);
  f.add("middle_zero", back.size() == 3 * 4096 && back.substr(4096, 4096).find_first_not_of('\0') == std::string::npos);
  close(fd);
  return f.str();
}

std::string c_fallocate_collapse_insert() {
  put("f", std::string(4 * 4096, 'x'));
  int fd = open_or_fail("f", O_RDWR);
  Facts f;
  f.add("collapse", rc(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 4096, 4096)));
  f.add("insert", rc(fallocate(fd, FALLOC_FL_INSERT_RANGE, 4096, 4096)));
  f.add("size", fstat_or_fail(fd).st_size);
  close(fd);
  return f.str();
}

std::string c_fallocate_errors() {
  mkdir_mode("d");
  put("f", "x");
  int ro = open_or_fail("f", O_RDONLY);
  Facts f;
  f.add("rdonly_fd", rc(fallocate(ro, 0, 0, 4096)));
  close(ro);
  int fd = open_or_fail("f", O_RDWR);
  f.add("zero_len", rc(fallocate(fd, 0, 0, 0)));
  f.add("negative", rc(fallocate(fd, 0, -1, 10)));
  close(fd);
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Locks

std::string c_lock_posix() {
  put("f", "0123456789");
  int fd = open_or_fail("f", O_RDWR);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 5;
  Facts f;
  f.add("lock", rc(fcntl(fd, F_SETLK, &fl)));
  pid_t self = getpid();
  f.add("other_process", as_user(0, 0, {0}, [self] {
    int fd2 = open_or_fail("f", O_RDWR);
    struct flock w {};
    w.l_type = F_WRLCK;
    w.l_whence = SEEK_SET;
    w.l_start = 2;
    w.l_len = 1;
    std::string setlk = rc(fcntl(fd2, F_SETLK, &w));
    struct flock q {};
    q.l_type = F_WRLCK;
    q.l_whence = SEEK_SET;
    q.l_start = 0;
    q.l_len = 10;
    std::string getlk = rc(fcntl(fd2, F_GETLK, &q));
    std::string holder = q.l_pid == self ? "parent" : q.l_type == F_UNLCK ? "none" : "other";
    struct flock free_range {};
    free_range.l_type = F_WRLCK;
    free_range.l_whence = SEEK_SET;
    free_range.l_start = 6;
    free_range.l_len = 2;
    std::string disjoint = rc(fcntl(fd2, F_SETLK, &free_range));
    close(fd2);
    return "setlk:" + setlk + ",getlk:" + getlk + ",holder:" + holder + ",disjoint:" + disjoint;
  }));
  fl.l_type = F_UNLCK;
  need(fcntl(fd, F_SETLK, &fl) == 0, "unlock");
  f.add("after_unlock", as_user(0, 0, {0}, [] {
    int fd2 = open_or_fail("f", O_RDWR);
    struct flock w {};
    w.l_type = F_WRLCK;
    w.l_whence = SEEK_SET;
    w.l_len = 0;
    std::string r = rc(fcntl(fd2, F_SETLK, &w));
    close(fd2);
    return r;
  }));
  close(fd);
  return f.str();
}

std::string c_lock_flock() {
  put("f", "x");
  int fd = open_or_fail("f", O_RDONLY);
  Facts f;
  f.add("flock", rc(flock(fd, LOCK_EX)));
  int fd2 = open_or_fail("f", O_RDONLY);
  f.add("second_fd", rc(flock(fd2, LOCK_EX | LOCK_NB)));
  f.add("shared_second", rc(flock(fd2, LOCK_SH | LOCK_NB)));
  need(flock(fd, LOCK_UN) == 0, "unlock");
  f.add("after_unlock", rc(flock(fd2, LOCK_EX | LOCK_NB)));
  close(fd);
  close(fd2);
  return f.str();
}

std::string c_lock_ofd() {
  put("f", "0123456789");
  int a = open_or_fail("f", O_RDWR);
  int b = open_or_fail("f", O_RDWR);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_len = 4;
  Facts f;
  f.add("first", rc(fcntl(a, F_OFD_SETLK, &fl)));
  struct flock fl2 = fl;
  f.add("second_fd", rc(fcntl(b, F_OFD_SETLK, &fl2)));
  close(a);
  struct flock fl3 = fl;
  f.add("after_close", rc(fcntl(b, F_OFD_SETLK, &fl3)));
  close(b);
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// Special files, names, O_TMPFILE, exec

std::string c_mknod_fifo() {
  Facts f;
  f.add("mkfifo", rc(mkfifo("p", 0644)));
  struct stat s = lstat_or_fail("p");
  f.add("type", type_str(s.st_mode)).add("mode", mode_str(s.st_mode));
  f.add("open_rd_nonblock", rc_close(open("p", O_RDONLY | O_NONBLOCK)));
  f.add("open_wr_nonblock_no_reader", rc_close(open("p", O_WRONLY | O_NONBLOCK)));
  int r = open("p", O_RDONLY | O_NONBLOCK);
  int w = open("p", O_WRONLY | O_NONBLOCK);
  f.add("pipe_through", [&] {
    if (r < 0 || w < 0) {
      return err();
    }
    char buf[4] = {};
    if (write(w, "hi", 2) != 2 || read(r, buf, sizeof buf) != 2) {
      return err();
    }
    return show(std::string_view(buf, 2));
  }());
  if (r >= 0) {
    close(r);
  }
  if (w >= 0) {
    close(w);
  }
  f.add("existing", rc(mkfifo("p", 0644)));
  return f.str();
}

std::string c_mknod_chardev() {
  Facts f;
  f.add("mknod", rc(mknod("c", S_IFCHR | 0666, makedev(1, 3))));
  struct stat s {};
  if (lstat("c", &s) == 0) {
    f.add("type", type_str(s.st_mode)).add("rdev", strf("%u:%u", major(s.st_rdev), minor(s.st_rdev)));
  }
  return f.str();
}

std::string c_mknod_chardev_nonroot() {
  return as_user(kUser, [] { return rc(mknod("c", S_IFCHR | 0666, makedev(1, 3))); });
}

std::string c_mknod_regular_and_socket() {
  Facts f;
  f.add("mknod_reg", rc(mknod("r", S_IFREG | 0644, 0)));
  f.add("reg_type", exists("r") == "yes" ? type_str(lstat_or_fail("r").st_mode) : "none");
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  need(s >= 0, "socket");
  sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, "sock");
  f.add("bind", rc(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr)));
  f.add("listen", rc(listen(s, 1)));
  f.add("sock_type", exists("sock") == "yes" ? type_str(lstat_or_fail("sock").st_mode) : "none");
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  need(c >= 0, "socket");
  f.add("connect", rc(connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr)));
  close(c);
  close(s);
  return f.str();
}

std::string c_name_lengths() {
  std::string n255(255, 'a');
  std::string n256(256, 'b');
  Facts f;
  f.add("create_255", rc_close(open(n255.c_str(), O_WRONLY | O_CREAT, 0644)));
  f.add("stat_255", exists(n255.c_str()));
  auto names = list_dir(".");
  f.add("listed_255", names.size() == 1 && names[0] == n255);
  f.add("create_256", rc_close(open(n256.c_str(), O_WRONLY | O_CREAT, 0644)));
  f.add("stat_256", exists(n256.c_str()));
  f.add("mkdir_256", rc(mkdir(n256.c_str(), 0755)));
  f.add("symlink_256", rc(symlink("x", n256.c_str())));
  f.add("mkdir_255", rc(mkdir(std::string(255, 'd').c_str(), 0755)));
  f.add("utf8", rc_close(open("caf\xc3\xa9-\xe2\x9c\x93", O_WRONLY | O_CREAT, 0644)));
  f.add("utf8_listed", exists("caf\xc3\xa9-\xe2\x9c\x93"));
  f.add("odd_bytes", rc_close(open("a b\tc\x01\xff", O_WRONLY | O_CREAT, 0644)));
  f.add("odd_listed", exists("a b\tc\x01\xff"));
  return f.str();
}

std::string c_tmpfile() {
  mkdir_mode("d");
  int fd = open("d", O_TMPFILE | O_RDWR, 0600);
  Facts f;
  f.add("open", rc(fd));
  if (fd >= 0) {
    write_all(fd, "tmp", "write");
    struct stat s = fstat_or_fail(fd);
    f.add("nlink", s.st_nlink).add("mode", mode_str(s.st_mode));
    f.add("listed", list_dir("d").size());
    f.add("linkat", rc(linkat(fd, "", AT_FDCWD, "d/t", AT_EMPTY_PATH)));
    f.add("content", content("d/t"));
    f.add("nlink_after", fstat_or_fail(fd).st_nlink);
    close(fd);
  }
  int excl = open("d", O_TMPFILE | O_RDWR | O_EXCL, 0600);
  if (excl >= 0) {
    f.add("excl_linkat", rc(linkat(excl, "", AT_FDCWD, "d/u", AT_EMPTY_PATH)));
    close(excl);
  }
  return f.str();
}

/// Copies this program to `dst` with `mode`: the exec checks run it in helper mode.
void copy_self(const char* dst, mode_t mode) {
  int in = open_or_fail("/proc/self/exe", O_RDONLY);
  std::string data = read_fd(in);
  close(in);
  put(dst, data, mode);
}

/// Runs argv[0] with args as uid (or as root with uid 0) and returns "exit=N" or an errno;
/// whatever the program prints on stdout is appended as ",out:<text>".
std::string run_prog(uid_t uid, const char* path, std::vector<const char*> args) {
  return as_user(uid, uid == 0 ? 0 : kUserGroup, {uid == 0 ? 0 : kUserGroup}, [&] {
    int out[2];
    need(pipe2(out, O_CLOEXEC) == 0, "pipe");
    int errpipe[2];
    need(pipe2(errpipe, O_CLOEXEC) == 0, "pipe");
    pid_t pid = fork();
    need(pid >= 0, "fork");
    if (pid == 0) {
      dup2(out[1], 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path));
      for (const char* a : args) {
        argv.push_back(const_cast<char*>(a));
      }
      argv.push_back(nullptr);
      execv(path, argv.data());
      int e = errno;
      send_all(errpipe[1], std::string(reinterpret_cast<char*>(&e), sizeof e));
      _exit(127);
    }
    close(out[1]);
    close(errpipe[1]);
    std::string printed = recv_all(out[0]);
    std::string exec_err = recv_all(errpipe[0]);
    close(out[0]);
    close(errpipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (exec_err.size() == sizeof(int)) {
      int e = 0;
      memcpy(&e, exec_err.data(), sizeof e);
      return "errno=" + errno_name(e);
    }
    std::string r = wait_desc(status);
    if (!printed.empty()) {
      r += ",out:" + show(printed);
    }
    return r;
  });
}

std::string c_exec_basic() {
  copy_self("prog", 0755);
  copy_self("noexec", 0644);
  mkdir_mode("d");
  Facts f;
  f.add("run", run_prog(0, "./prog", {"--exit-with", "3"}));
  f.add("run_as_user", run_prog(kUser, "./prog", {"--exit-with", "4"}));
  f.add("no_x_bit", run_prog(0, "./noexec", {"--exit-with", "3"}));
  f.add("dir", run_prog(0, "./d", {}));
  return f.str();
}

std::string c_exec_setuid() {
  // Whether a setuid-root program gains euid 0 depends on the mount's nosuid flag.
  copy_self("suid", 04755);
  need(chmod("suid", 04755) == 0, "chmod");
  std::string r = run_prog(kUser, "./suid", {"--print-euid"});
  if (r == "exit=0,out:0\\x0a") {
    return "euid=owner";
  }
  if (r == strf("exit=0,out:%u\\x0a", kUser)) {
    return "euid=caller";
  }
  return r;
}

std::string c_exec_text_busy() {
  copy_self("prog", 0755);
  int in[2];
  need(pipe2(in, O_CLOEXEC) == 0, "pipe");
  fflush(stdout);
  pid_t pid = fork();
  need(pid >= 0, "fork");
  if (pid == 0) {
    dup2(in[0], 0);
    execl("./prog", "./prog", "--wait-stdin", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  // Give exec time to happen: poll until the child's exe is our copy.
  std::string exe;
  for (int i = 0; i < 200; ++i) {
    char buf[4096] = {};
    ssize_t n = readlink(strf("/proc/%d/exe", pid).c_str(), buf, sizeof buf - 1);
    if (n > 0 && std::string_view(buf, static_cast<size_t>(n)).ends_with("/prog")) {
      exe = buf;
      break;
    }
    tick();
  }
  Facts f;
  f.add("exec_seen", !exe.empty());
  f.add("open_for_write", rc_close(open("prog", O_WRONLY)));
  close(in[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  f.add("child", wait_desc(status));
  f.add("open_after_exit", rc_close(open("prog", O_WRONLY)));
  return f.str();
}

// ---------------------------------------------------------------------------------------------
// The table

struct Check {
  const char* name;
  bool needs_root;
  std::string (*fn)();
};

const Check kChecks[] = {
    {"open.excl_existing", false, c_open_excl_existing},
    {"open.excl_new", false, c_open_excl_new},
    {"open.trunc", false, c_open_trunc},
    {"open.trunc_rdonly", false, c_open_trunc_rdonly},
    {"open.mode_umask022", false, c_open_mode_umask022},
    {"open.mode_umask0", false, c_open_mode_umask0},
    {"open.mode_umask077", false, c_open_mode_umask077},
    {"open.mode_special_bits", true, c_open_mode_special_bits},
    {"open.directory_on_file", false, c_open_directory_on_file},
    {"open.nofollow", false, c_open_nofollow},
    {"open.creat_via_dangling_symlink", false, c_open_creat_via_dangling_symlink},
    {"open.append", false, c_open_append},
    {"open.append_two_fds", false, c_open_append_two_fds},
    {"open.dir_for_write", false, c_open_dir_for_write},
    {"open.missing", false, c_open_missing},
    {"open.o_direct", false, c_open_o_direct},
    {"open.o_path", false, c_open_o_path},
    {"rw.pwrite_pread", false, c_rw_pwrite_pread},
    {"rw.sequential", false, c_rw_sequential},
    {"rw.large", false, c_rw_large},
    {"rw.read_dir", false, c_rw_read_dir},
    {"rw.wrong_mode_fd", false, c_rw_wrong_mode_fd},
    {"rw.pwrite_o_append", false, c_rw_pwrite_o_append},
    {"rw.times_on_write", false, c_rw_times_on_write},
    {"rw.atime_on_read", false, c_rw_atime_on_read},
    {"rw.copy_file_range", false, c_rw_copy_file_range},
    {"sparse.5gib", false, c_sparse_5gib},
    {"trunc.grow_shrink", false, c_trunc_grow_shrink},
    {"trunc.errors", false, c_trunc_errors},
    {"trunc.times", false, c_trunc_times},
    {"seek.data_hole", false, c_seek_data_hole},
    {"seek.basic", false, c_seek_basic},
    {"unlink.open_file", false, c_unlink_open_file},
    {"unlink.errors", false, c_unlink_errors},
    {"unlink.parent_times", false, c_unlink_parent_times},
    {"unlink.hardlink_keeps_data", false, c_unlink_hardlink_keeps_data},
    {"rename.file_over_file", false, c_rename_file_over_file},
    {"rename.dir_over_empty_dir", false, c_rename_dir_over_empty_dir},
    {"rename.dir_over_nonempty_dir", false, c_rename_dir_over_nonempty_dir},
    {"rename.file_over_dir", false, c_rename_file_over_dir},
    {"rename.dir_over_file", false, c_rename_dir_over_file},
    {"rename.into_own_subdir", false, c_rename_into_own_subdir},
    {"rename.same_inode", false, c_rename_same_inode},
    {"rename.missing", false, c_rename_missing},
    {"rename.noreplace", false, c_rename_noreplace},
    {"rename.exchange", false, c_rename_exchange},
    {"rename.dir_nlink", false, c_rename_dir_nlink},
    {"rename.times", false, c_rename_times},
    {"rename.symlink", false, c_rename_symlink},
    {"link.nlink", false, c_link_nlink},
    {"link.nlink_seen_via_other_name", false, c_link_nlink_seen_via_other_name},
    {"link.attrs_seen_via_other_name", true, c_link_attrs_seen_via_other_name},
    {"link.errors", false, c_link_errors},
    {"link.symlink", false, c_link_symlink},
    {"link.cross_dir", false, c_link_cross_dir},
    {"symlink.readlink", false, c_symlink_readlink},
    {"symlink.stat_vs_lstat", false, c_symlink_stat_vs_lstat},
    {"symlink.dangling", false, c_symlink_dangling},
    {"symlink.loop", false, c_symlink_loop},
    {"symlink.lchown", true, c_symlink_lchown},
    {"symlink.errors", false, c_symlink_errors},
    {"symlink.long_target", false, c_symlink_long_target},
    {"symlink.to_dir", false, c_symlink_to_dir},
    {"dir.mkdir_exists", false, c_dir_mkdir_exists},
    {"dir.rmdir_errors", false, c_dir_rmdir_errors},
    {"dir.nlink", false, c_dir_nlink},
    {"dir.parent_times_on_create", false, c_dir_parent_times_on_create},
    {"dir.removed_while_open", false, c_dir_removed_while_open},
    {"dir.setgid_inheritance", true, c_dir_setgid_inheritance},
    {"perm.new_file_owner", true, c_perm_new_file_owner},
    {"perm.chmod_not_owner", true, c_perm_chmod_not_owner},
    {"perm.chown_rules", true, c_perm_chown_rules},
    {"perm.chown_clears_setid", true, c_perm_chown_clears_setid},
    {"perm.write_clears_setid", true, c_perm_write_clears_setid},
    {"perm.truncate_clears_setid", true, c_perm_truncate_clears_setid},
    {"perm.chgrp_clears_setid", true, c_perm_kill_on_nonroot_chown},
    {"perm.chmod_setgid_not_member", true, c_perm_chmod_setgid_not_member},
    {"perm.sticky_dir", true, c_perm_sticky_dir},
    {"perm.access_root_file", true, c_perm_access_root_file},
    {"perm.root_override", true, c_perm_root_override},
    {"perm.modes_for_user", true, c_perm_modes_for_user},
    {"perm.owner_denied_by_owner_bits", true, c_perm_owner_denied_by_owner_bits},
    {"perm.dir_search", true, c_perm_dir_search},
    {"perm.utimes_rules", true, c_perm_utimes_rules},
    {"perm.xattr_rules", true, c_perm_xattr_rules},
    {"chmod.basic", false, c_chmod_basic},
    {"chown.basic", true, c_chown_basic},
    {"stat.consistent", false, c_stat_consistent},
    {"stat.statx_btime", false, c_stat_statx_btime},
    {"stat.blocks_after_write", false, c_stat_blocks_after_write},
    {"stat.ino_stable", false, c_stat_ino_stable},
    {"utimes.explicit", false, c_utimes_explicit},
    {"utimes.omit_now", false, c_utimes_omit_now},
    {"utimes.symlink_nofollow", false, c_utimes_symlink_nofollow},
    {"utimes.futimens", false, c_utimes_futimens},
    {"xattr.set_get", false, c_xattr_set_get},
    {"xattr.list", false, c_xattr_list},
    {"xattr.errors", false, c_xattr_errors},
    {"xattr.on_dir_and_symlink", false, c_xattr_on_dir_and_symlink},
    {"xattr.fd_ops", false, c_xattr_fd_ops},
    {"xattr.large_value", false, c_xattr_large_value},
    {"xattr.trusted", true, c_xattr_trusted},
    {"xattr.posix_acl_absent", false, c_xattr_posix_acl_absent},
    {"readdir.1000", false, c_readdir_1000},
    {"readdir.concurrent", false, c_readdir_concurrent},
    {"readdir.d_type", false, c_readdir_d_type},
    {"readdir.ino_matches_stat", false, c_readdir_ino_matches_stat},
    {"readdir.seek_rewind", false, c_readdir_seek_rewind},
    {"readdir.empty_and_growing", false, c_readdir_empty_and_growing},
    {"mmap.shared", false, c_mmap_shared},
    {"mmap.private", false, c_mmap_private},
    {"mmap.readonly_fd", false, c_mmap_readonly_fd},
    {"sync.calls", false, c_sync_calls},
    {"statfs.basic", false, c_statfs_basic},
    {"fallocate.extend", false, c_fallocate_extend},
    {"fallocate.keep_size", false, c_fallocate_keep_size},
    {"fallocate.punch_hole", false, c_fallocate_punch_hole},
    {"fallocate.zero_range", false, c_fallocate_zero_range},
    {"fallocate.collapse_insert", false, c_fallocate_collapse_insert},
    {"fallocate.errors", false, c_fallocate_errors},
    {"lock.posix", true, c_lock_posix},
    {"lock.flock", false, c_lock_flock},
    {"lock.ofd", false, c_lock_ofd},
    {"mknod.fifo", false, c_mknod_fifo},
    {"mknod.chardev", true, c_mknod_chardev},
    {"mknod.chardev_nonroot", true, c_mknod_chardev_nonroot},
    {"mknod.regular_and_socket", false, c_mknod_regular_and_socket},
    {"name.lengths", false, c_name_lengths},
    {"tmpfile.open", false, c_tmpfile},
    {"exec.basic", true, c_exec_basic},
    {"exec.setuid", true, c_exec_setuid},
    {"exec.text_busy", false, c_exec_text_busy},
};

// ---------------------------------------------------------------------------------------------
// Driver

int rm_entry(const char* path, const struct stat*, int type, FTW*) {
  int r = (type == FTW_DP || type == FTW_D) ? rmdir(path) : unlink(path);
  if (r != 0) {
    fprintf(stderr, "fsconform: cannot remove %s: %s\n", path, strerror(errno));
  }
  return 0;
}

/// Removes `path` and everything below it; true when it is gone afterwards.
bool remove_tree(const char* path) {
  // nftw needs search permission in every directory; checks leave some at 0700 or 0000.
  nftw(path, [](const char* p, const struct stat*, int type, FTW*) {
    if (type == FTW_D || type == FTW_DNR) {
      chmod(p, 0700);
    }
    return 0;
  }, 64, FTW_PHYS);
  nftw(path, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
  struct stat s {};
  return lstat(path, &s) != 0 && errno == ENOENT;
}

bool selected(const char* name, int argc, char** argv, int first) {
  if (first >= argc) {
    return true;
  }
  for (int i = first; i < argc; ++i) {
    if (strncmp(name, argv[i], strlen(argv[i])) == 0) {
      return true;
    }
  }
  return false;
}

int helper_mode(int argc, char** argv) {
  if (strcmp(argv[1], "--exit-with") == 0 && argc == 3) {
    return atoi(argv[2]);
  }
  if (strcmp(argv[1], "--print-euid") == 0) {
    printf("%u\n", geteuid());
    return 0;
  }
  if (strcmp(argv[1], "--wait-stdin") == 0) {
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2) {
    int r = helper_mode(argc, argv);
    if (r >= 0) {
      return r;
    }
  }
  if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
    for (const Check& c : kChecks) {
      printf("%s\n", c.name);
    }
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: fsconform DIR [PREFIX...] | fsconform --list\n");
    return 2;
  }
  g_root = geteuid() == 0;
  signal(SIGPIPE, SIG_IGN);
  if (chdir(argv[1]) != 0) {
    fprintf(stderr, "fsconform: cannot enter %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  std::string top = strf(".fsconform-%d", getpid());
  umask(022);
  if (mkdir(top.c_str(), 0777) != 0 || chmod(top.c_str(), 0777) != 0 || chdir(top.c_str()) != 0) {
    fprintf(stderr, "fsconform: cannot create %s/%s: %s\n", argv[1], top.c_str(), strerror(errno));
    return 2;
  }
  bool clean = true;
  int index = 0;
  for (const Check& c : kChecks) {
    if (!selected(c.name, argc, argv, 2)) {
      continue;
    }
    std::string work = std::to_string(index++);
    std::string result;
    umask(022);
    if (c.needs_root && !g_root) {
      result = "skip=not-root";
    } else if (mkdir(work.c_str(), 0777) != 0 || chmod(work.c_str(), 0777) != 0 || chdir(work.c_str()) != 0) {
      result = "setup-error workdir " + err();
    } else {
      try {
        result = c.fn();
      } catch (const SetupError& e) {
        result = e.what();
      }
      umask(022);
      if (chdir("..") != 0) {
        fprintf(stderr, "fsconform: cannot leave %s: %s\n", work.c_str(), strerror(errno));
        return 1;
      }
      if (!remove_tree(work.c_str())) {
        clean = false;
        fprintf(stderr, "fsconform: %s left %s behind\n", c.name, work.c_str());
      }
    }
    printf("%s %s\n", c.name, result.c_str());
    fflush(stdout);
  }
  if (chdir("..") != 0 || !remove_tree(top.c_str())) {
    fprintf(stderr, "fsconform: cannot remove %s\n", top.c_str());
    clean = false;
  }
  return clean ? 0 : 1;
}
