/*
 * cove-probe: a static program run inside test containers to report what the container may do.
 *
 *   cove-probe report          key=value lines: security state, cgroup limits, syscall probes
 *   cove-probe memhog MIB      allocate and touch MIB MiB, 1 MiB at a time
 *   cove-probe forkbomb N      fork up to N sleeping children, report how far it got
 *   cove-probe write PATH      create/truncate PATH and write to it
 *   cove-probe inotify DIR SECONDS [COUNT]
 *                              watch DIR: the first event, or with COUNT every event (see below)
 *
 * It is linked statically because the test rootfs holds nothing but busybox. Syscalls are made
 * through syscall(2) with SYS_* numbers and hand-laid argument structs so that the probe builds
 * against any libc and kernel headers and reports the kernel's (or seccomp's) answer, not libc's.
 *
 * Every syscall probe runs in a forked child: a probe that succeeds changes the caller (unshare
 * moves it to a new user namespace, mount adds a mount, add_key fills a keyring), and a seccomp
 * filter that kills instead of failing would otherwise kill the whole report. The child reports
 * through its exit status: 0 for success, the errno otherwise; death by a signal is printed as
 * "killed:<SIGNAME>".
 *
 * Output format of `report` (tests parse it with grep '^key='):
 *   seccomp, no_new_privs      the numbers from /proc/self/status (Seccomp: 2 = filter)
 *   cap_eff, cap_prm, cap_bnd, cap_amb, cap_inh   16 hex digits from /proc/self/status
 *   uid, gid                   real ids
 *   cgroup                     v1 or v2
 *   memory_limit, memory_reservation, pids_limit, cpu_quota, cpu_period
 *                              the file contents ("max" stays "max", v1 -1 stays -1); "unknown"
 *                              when the file cannot be read
 *   sys_<name>                 ok, an errno name (EPERM), or killed:<SIGNAME>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Numbers that are the same on every architecture since the 424+ unified table (Linux 5.1). */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

/* Constants from kernel headers, spelled out so the probe needs none of them. */
#define PROBE_CLONE_NEWUSER 0x10000000
#define PROBE_KEYCTL_GET_KEYRING_ID 0
#define PROBE_KEY_SPEC_PROCESS_KEYRING (-2)
#define PROBE_KEY_SPEC_SESSION_KEYRING (-3)
#define PROBE_BPF_MAP_CREATE 0
#define PROBE_BPF_MAP_TYPE_ARRAY 2
#define PROBE_PTRACE_TRACEME 0
#define PROBE_PERF_TYPE_SOFTWARE 1
#define PROBE_PERF_COUNT_SW_CPU_CLOCK 0
#define PROBE_PERF_ATTR_SIZE_VER0 64
#define PROBE_UFFD_USER_MODE_ONLY 1

static const char* errno_name(int e) {
  if (e == 0) {
    return "ok";
  }
  const char* n = strerrorname_np(e);
  if (n != NULL) {
    return n;
  }
  static char buf[32];
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

static const char* signal_name(int sig) {
  const char* n = sigabbrev_np(sig);
  static char buf[32];
  if (n != NULL) {
    snprintf(buf, sizeof buf, "SIG%s", n);
  } else {
    snprintf(buf, sizeof buf, "SIG%d", sig);
  }
  return buf;
}

/* Reads the first line of `path` into `out` without its newline. Returns 0 or -1. */
static int read_line(const char* path, char* out, size_t size) {
  FILE* f = fopen(path, "re");
  if (f == NULL) {
    return -1;
  }
  if (fgets(out, (int)size, f) == NULL) {
    fclose(f);
    return -1;
  }
  fclose(f);
  out[strcspn(out, "\n")] = '\0';
  return 0;
}

/* Prints key=<first line of the first readable path>, or key=unknown. */
static void print_file_value(const char* key, const char* const* paths) {
  char line[256];
  for (; *paths != NULL; ++paths) {
    if (read_line(*paths, line, sizeof line) == 0) {
      printf("%s=%s\n", key, line);
      return;
    }
  }
  printf("%s=unknown\n", key);
}

/* Prints key=<value of the "Field:" line of /proc/self/status>, or key=unknown. */
static void print_status_field(const char* key, const char* field) {
  FILE* f = fopen("/proc/self/status", "re");
  char line[512];
  size_t flen = strlen(field);
  if (f != NULL) {
    while (fgets(line, sizeof line, f) != NULL) {
      if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
        char* v = line + flen + 1;
        v += strspn(v, " \t");
        v[strcspn(v, "\n")] = '\0';
        printf("%s=%s\n", key, v);
        fclose(f);
        return;
      }
    }
    fclose(f);
  }
  printf("%s=unknown\n", key);
}

static int is_cgroup_v2(void) {
  return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

static void report_cgroups(void) {
  if (is_cgroup_v2()) {
    printf("cgroup=v2\n");
    static const char* const mem[] = {"/sys/fs/cgroup/memory.max", NULL};
    static const char* const low[] = {"/sys/fs/cgroup/memory.low", NULL};
    static const char* const pids[] = {"/sys/fs/cgroup/pids.max", NULL};
    print_file_value("memory_limit", mem);
    print_file_value("memory_reservation", low);
    print_file_value("pids_limit", pids);
    /* cpu.max is "<quota|max> <period>". */
    char line[256];
    char quota[64];
    char period[64];
    if (read_line("/sys/fs/cgroup/cpu.max", line, sizeof line) == 0 &&
        sscanf(line, "%63s %63s", quota, period) == 2) {
      printf("cpu_quota=%s\ncpu_period=%s\n", quota, period);
    } else {
      printf("cpu_quota=unknown\ncpu_period=unknown\n");
    }
    return;
  }
  printf("cgroup=v1\n");
  static const char* const mem[] = {"/sys/fs/cgroup/memory/memory.limit_in_bytes", NULL};
  static const char* const soft[] = {"/sys/fs/cgroup/memory/memory.soft_limit_in_bytes", NULL};
  static const char* const pids[] = {"/sys/fs/cgroup/pids/pids.max", NULL};
  static const char* const quota[] = {"/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
                                      "/sys/fs/cgroup/cpuacct,cpu/cpu.cfs_quota_us", NULL};
  static const char* const period[] = {"/sys/fs/cgroup/cpu/cpu.cfs_period_us",
                                       "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us",
                                       "/sys/fs/cgroup/cpuacct,cpu/cpu.cfs_period_us", NULL};
  print_file_value("memory_limit", mem);
  print_file_value("memory_reservation", soft);
  print_file_value("pids_limit", pids);
  print_file_value("cpu_quota", quota);
  print_file_value("cpu_period", period);
}

/* ---- syscall probes: each returns 0 on success or an errno; runs in a child ---- */

static int result_of(long rc) {
  return rc < 0 ? errno : 0;
}

static int probe_unshare_newuser(void) {
  return result_of(syscall(SYS_unshare, PROBE_CLONE_NEWUSER));
}

static int probe_mount(void) {
  char dir[] = "/tmp/cove-probe-mnt.XXXXXX";
  const char* target = mkdtemp(dir);
  int made = target != NULL;
  if (!made) {
    target = "/tmp"; /* read-only rootfs without a writable /tmp: any directory will do */
  }
  long rc = syscall(SYS_mount, "tmpfs", target, "tmpfs", 0UL, "size=1m");
  int e = result_of(rc);
  if (rc == 0) {
    umount2(target, MNT_DETACH);
  }
  if (made) {
    rmdir(target);
  }
  return e;
}

static int probe_keyctl(void) {
  return result_of(syscall(SYS_keyctl, PROBE_KEYCTL_GET_KEYRING_ID, PROBE_KEY_SPEC_SESSION_KEYRING, 0));
}

static int probe_add_key(void) {
  static const char payload[] = "x";
  return result_of(
      syscall(SYS_add_key, "user", "cove-probe", payload, sizeof payload - 1, PROBE_KEY_SPEC_PROCESS_KEYRING));
}

static int probe_bpf(void) {
  /* union bpf_attr for BPF_MAP_CREATE: map_type, key_size, value_size, max_entries, map_flags. */
  uint32_t attr[32];
  memset(attr, 0, sizeof attr);
  attr[0] = PROBE_BPF_MAP_TYPE_ARRAY;
  attr[1] = 4;
  attr[2] = 4;
  attr[3] = 1;
  long fd = syscall(SYS_bpf, PROBE_BPF_MAP_CREATE, attr, (unsigned long)sizeof attr);
  int e = result_of(fd);
  if (fd >= 0) {
    close((int)fd);
  }
  return e;
}

static int probe_ptrace(void) {
  /* Already in a forked child: become traced by our parent, the probe itself. */
  return result_of(syscall(SYS_ptrace, PROBE_PTRACE_TRACEME, 0, 0, 0));
}

static int probe_perf_event_open(void) {
  /* struct perf_event_attr: type (u32 @0), size (u32 @4), config (u64 @8), flags (u64 @40). */
  uint64_t attr[16];
  memset(attr, 0, sizeof attr);
  uint32_t* words = (uint32_t*)attr;
  words[0] = PROBE_PERF_TYPE_SOFTWARE;
  words[1] = PROBE_PERF_ATTR_SIZE_VER0;
  attr[1] = PROBE_PERF_COUNT_SW_CPU_CLOCK;
  /* disabled (bit 0), exclude_kernel (bit 5), exclude_hv (bit 6): what an unprivileged caller may
   * ask for under perf_event_paranoid 2. */
  attr[5] = (1ULL << 0) | (1ULL << 5) | (1ULL << 6);
  long fd = syscall(SYS_perf_event_open, attr, 0, -1, -1, 0UL);
  int e = result_of(fd);
  if (fd >= 0) {
    close((int)fd);
  }
  return e;
}

static int probe_userfaultfd(void) {
  /* UFFD_USER_MODE_ONLY (Linux 5.11) is what unprivileged callers may use under
   * vm.unprivileged_userfaultfd=0; older kernels reject the flag with EINVAL. */
  long fd = syscall(SYS_userfaultfd, O_CLOEXEC | PROBE_UFFD_USER_MODE_ONLY);
  if (fd < 0 && errno == EINVAL) {
    fd = syscall(SYS_userfaultfd, O_CLOEXEC);
  }
  int e = result_of(fd);
  if (fd >= 0) {
    close((int)fd);
  }
  return e;
}

static int probe_io_uring_setup(void) {
  /* struct io_uring_params is 120 bytes; all zero asks for nothing special. */
  uint64_t params[32];
  memset(params, 0, sizeof params);
  long fd = syscall(SYS_io_uring_setup, 1U, params);
  int e = result_of(fd);
  if (fd >= 0) {
    close((int)fd);
  }
  return e;
}

struct syscall_probe {
  const char* name;
  int (*fn)(void);
};

static const struct syscall_probe kProbes[] = {
    {"unshare_newuser", probe_unshare_newuser},
    {"mount", probe_mount},
    {"keyctl", probe_keyctl},
    {"add_key", probe_add_key},
    {"bpf", probe_bpf},
    {"ptrace", probe_ptrace},
    {"perf_event_open", probe_perf_event_open},
    {"userfaultfd", probe_userfaultfd},
    {"io_uring_setup", probe_io_uring_setup},
};

static void run_probe(const struct syscall_probe* p) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    printf("sys_%s=fork:%s\n", p->name, errno_name(errno));
    return;
  }
  if (pid == 0) {
    int e = p->fn();
    _exit(e > 255 ? 255 : e);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      printf("sys_%s=waitpid:%s\n", p->name, errno_name(errno));
      return;
    }
  }
  if (WIFSIGNALED(status)) {
    printf("sys_%s=killed:%s\n", p->name, signal_name(WTERMSIG(status)));
  } else if (WIFSTOPPED(status)) {
    printf("sys_%s=stopped\n", p->name);
  } else {
    printf("sys_%s=%s\n", p->name, errno_name(WEXITSTATUS(status)));
  }
}

static int cmd_report(void) {
  print_status_field("seccomp", "Seccomp");
  print_status_field("no_new_privs", "NoNewPrivs");
  print_status_field("cap_eff", "CapEff");
  print_status_field("cap_prm", "CapPrm");
  print_status_field("cap_inh", "CapInh");
  print_status_field("cap_bnd", "CapBnd");
  print_status_field("cap_amb", "CapAmb");
  printf("uid=%u\ngid=%u\n", (unsigned)getuid(), (unsigned)getgid());
  report_cgroups();
  for (size_t i = 0; i < sizeof kProbes / sizeof kProbes[0]; ++i) {
    run_probe(&kProbes[i]);
  }
  fflush(stdout);
  return 0;
}

static int cmd_memhog(long mib) {
  const size_t chunk = 1024 * 1024;
  for (long i = 1; i <= mib; ++i) {
    char* p = malloc(chunk);
    if (p == NULL) {
      printf("memhog=failed mib=%ld errno=%s\n", i - 1, errno_name(errno));
      fflush(stdout);
      return 1;
    }
    memset(p, (int)(i & 0xff) | 1, chunk); /* touch every page; never freed on purpose */
    printf("memhog_progress=%ld\n", i);
    fflush(stdout);
  }
  printf("memhog=complete mib=%ld\n", mib);
  fflush(stdout);
  return 0;
}

static int cmd_forkbomb(long n) {
  pid_t* kids = calloc((size_t)(n > 0 ? n : 1), sizeof *kids);
  if (kids == NULL) {
    printf("forked=0 errno=%s\n", errno_name(errno));
    return 1;
  }
  pid_t parent = getpid();
  long count = 0;
  int err = 0;
  fflush(stdout);
  for (; count < n; ++count) {
    pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      /* Die with the probe even if it is killed before it can reap. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) {
        _exit(0);
      }
      for (;;) {
        pause();
      }
    }
    kids[count] = pid;
  }
  printf("forked=%ld errno=%s\n", count, err != 0 ? errno_name(err) : "none");
  fflush(stdout);
  for (long i = 0; i < count; ++i) {
    kill(kids[i], SIGKILL);
  }
  for (long i = 0; i < count; ++i) {
    while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR) {
    }
  }
  free(kids);
  return 0;
}

static int cmd_write(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    printf("%s\n", errno_name(errno));
    return 1;
  }
  static const char text[] = "cove-probe\n";
  ssize_t n = write(fd, text, sizeof text - 1);
  int e = n < 0 ? errno : 0;
  if (close(fd) != 0 && e == 0) {
    e = errno;
  }
  if (e == 0 && n != (ssize_t)(sizeof text - 1)) {
    e = EIO;
  }
  printf("%s\n", errno_name(e));
  return e == 0 ? 0 : 1;
}

static int parse_count(const char* s, long* out) {
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) {
    return -1;
  }
  *out = v;
  return 0;
}

/* Watches DIR with inotify for up to SECONDS and prints the first event: "event=NAME" (the
 * file's name) or "event=none". The hot-reload test runs it in a preview container while an
 * agent container writes. */
static int cmd_inotify(const char* dir, int seconds) {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    printf("event=error errno=%s\n", errno_name(errno));
    return 1;
  }
  printf("watching=%s\n", dir);
  fflush(stdout);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, seconds * 1000) <= 0) {
    printf("event=none\n");
    return 0;
  }
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < (ssize_t)sizeof(struct inotify_event)) {
    printf("event=error\n");
    return 1;
  }
  const struct inotify_event* ev = (const struct inotify_event*)buf;
  printf("event=%s\n", ev->len > 0 ? ev->name : "(dir)");
  return 0;
}

static const char* inotify_op(uint32_t mask) {
  if (mask & IN_Q_OVERFLOW) {
    return "OVERFLOW";
  }
  if (mask & IN_CREATE) {
    return "CREATE";
  }
  if (mask & IN_MOVED_TO) {
    return "MOVED_TO";
  }
  if (mask & IN_CLOSE_WRITE) {
    return "CLOSE_WRITE";
  }
  if (mask & IN_MODIFY) {
    return "MODIFY";
  }
  if (mask & IN_IGNORED) {
    return "IGNORED";
  }
  return "OTHER";
}

static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Watches DIR with inotify and prints every event as "event=NAME op=OP" (flushed at once, so
 * `docker logs` of a container running it shows each change as it happens) until COUNT events
 * (0: no limit) or SECONDS have passed, then "events=N". The process blocks in poll(2) on the
 * inotify descriptor: it never rescans the directory. The seed-platform scenario runs it as a
 * preview container's command while agent containers write. */
static int cmd_inotify_each(const char* dir, int seconds, long count) {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    printf("event=error errno=%s\n", errno_name(errno));
    return 1;
  }
  printf("watching=%s\n", dir);
  fflush(stdout);
  long deadline = monotonic_ms() + (long)seconds * 1000L;
  long seen = 0;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (count == 0 || seen < count) {
    long left = deadline - monotonic_ms();
    if (left <= 0) {
      break;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      break;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < (ssize_t)sizeof(struct inotify_event)) {
      printf("event=error errno=%s\n", errno_name(n < 0 ? errno : EIO));
      return 1;
    }
    for (const char* at = buf; at < buf + n && (count == 0 || seen < count);) {
      const struct inotify_event* ev = (const struct inotify_event*)at;
      printf("event=%s op=%s\n", ev->len > 0 ? ev->name : "(dir)", inotify_op(ev->mask));
      ++seen;
      at += sizeof *ev + ev->len;
    }
    fflush(stdout);
  }
  printf("events=%ld\n", seen);
  fflush(stdout);
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: cove-probe report\n"
          "       cove-probe memhog MIB\n"
          "       cove-probe forkbomb N\n"
          "       cove-probe write PATH\n"
          "       cove-probe inotify DIR SECONDS [COUNT]\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage();
  }
  const char* cmd = argv[1];
  long n = 0;
  if (strcmp(cmd, "report") == 0 && argc == 2) {
    return cmd_report();
  }
  if (strcmp(cmd, "memhog") == 0 && argc == 3 && parse_count(argv[2], &n) == 0) {
    return cmd_memhog(n);
  }
  if (strcmp(cmd, "forkbomb") == 0 && argc == 3 && parse_count(argv[2], &n) == 0) {
    return cmd_forkbomb(n);
  }
  if (strcmp(cmd, "inotify") == 0 && argc == 4) {
    return cmd_inotify(argv[2], atoi(argv[3]));
  }
  if (strcmp(cmd, "inotify") == 0 && argc == 5 && parse_count(argv[4], &n) == 0) {
    return cmd_inotify_each(argv[2], atoi(argv[3]), n);
  }
  if (strcmp(cmd, "write") == 0 && argc == 3) {
    return cmd_write(argv[2]);
  }
  return usage();
}
