#include "policy/seccomp.h"

#include <algorithm>
#include <map>
#include <set>

namespace policy {

namespace {

// Docker 20.10's default allow-list (moby profiles/seccomp/default.json, the unconditional rule),
// less io_uring_setup/enter/register: io_uring bypasses seccomp for the operations it submits
// (Docker >= 25 dropped it too).
const std::vector<std::string> kBaselineAllowed = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
    "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
    "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
    "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
    "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
    "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
    "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
};

constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;  // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
constexpr int kEnosys = 38;

bool allow_like(const std::string& action) { return !seccomp_action_denies(action); }

// A copy of `rule` for one syscall. The names array is not copied: Docker's main rule lists
// ~350 names, and copying it per name made the merge quadratic.
Json single(const Json& rule, const std::string& name) {
  Json r = Json::object();
  for (auto it = rule.begin(); it != rule.end(); ++it) {
    if (it.key() == "names") {
      r["names"] = Json::array({name});
    } else {
      r[it.key()] = it.value();
    }
  }
  return r;
}

bool unconditional_allow(const Json& rule) {
  auto a = rule.find("action");
  auto args = rule.find("args");
  return a != rule.end() && a->is_string() && a->get<std::string>() == "SCMP_ACT_ALLOW" &&
         (args == rule.end() || args->is_null() || (args->is_array() && args->empty()));
}

bool has_args(const Json& rule) {
  auto args = rule.find("args");
  return args != rule.end() && args->is_array() && !args->empty();
}

std::string action_of(const Json& rule) {
  auto a = rule.find("action");
  return a != rule.end() && a->is_string() ? a->get<std::string>() : "SCMP_ACT_ALLOW";
}

// The baseline's conditional and errno rules, one syscall each.
std::map<std::string, std::vector<Json>> baseline_special_rules() {
  std::map<std::string, std::vector<Json>> out;
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    out["personality"].push_back(
        Json{{"names", {"personality"}},
             {"action", "SCMP_ACT_ALLOW"},
             {"args", Json::array({Json{{"index", 0}, {"value", persona}, {"op", "SCMP_CMP_EQ"}}})}});
  }
  out["clone"].push_back(Json{
      {"names", {"clone"}},
      {"action", "SCMP_ACT_ALLOW"},
      {"args", Json::array({Json{{"index", 0},
                                 {"value", kCloneNamespaceFlags},
                                 {"valueTwo", 0},
                                 {"op", "SCMP_CMP_MASKED_EQ"}}})}});
  out["clone3"].push_back(
      Json{{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", kEnosys}});
  out["arch_prctl"].push_back(Json{{"names", {"arch_prctl"}}, {"action", "SCMP_ACT_ALLOW"}});
  return out;
}

Json architectures() {
#if defined(__x86_64__)
  return Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
#elif defined(__aarch64__)
  return Json::array({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
#else
  return Json::array();
#endif
}

}  // namespace

bool seccomp_action_denies(const std::string& action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_PROCESS" ||
         action == "SCMP_ACT_KILL_THREAD" || action == "SCMP_ACT_TRAP";
}

const std::vector<std::string>& baseline_allowed_syscalls() { return kBaselineAllowed; }

Json baseline_profile(const std::vector<std::string>& deny) {
  return merge_seccomp(Json(), deny);
}

Json merge_seccomp(const Json& requested, const std::vector<std::string>& deny) {
  std::set<std::string> denied(deny.begin(), deny.end());
  auto special = baseline_special_rules();
  bool have_request = requested.is_object();

  // The caller's rules per syscall (pointers into `requested`; copied only when kept).
  std::map<std::string, std::vector<const Json*>> caller;
  std::string caller_default = "SCMP_ACT_ALLOW";
  if (have_request) {
    if (auto d = requested.find("defaultAction"); d != requested.end() && d->is_string()) {
      caller_default = d->get<std::string>();
    }
    if (auto sc = requested.find("syscalls"); sc != requested.end() && sc->is_array()) {
      for (const auto& rule : *sc) {
        if (!rule.is_object()) {
          continue;
        }
        auto names = rule.find("names");
        if (names == rule.end() || !names->is_array()) {
          continue;
        }
        for (const auto& n : *names) {
          if (n.is_string()) {
            caller[n.get<std::string>()].push_back(&rule);
          }
        }
      }
    }
  }
  bool caller_default_allows = !have_request || allow_like(caller_default);

  std::vector<std::string> uncond;
  std::map<std::string, std::vector<Json>> per_syscall;

  auto caller_denies = [&](const std::vector<const Json*>& rules) {
    return std::all_of(rules.begin(), rules.end(),
                       [](const Json* r) { return !allow_like(action_of(*r)) && !has_args(*r); });
  };

  // 1. Syscalls the baseline allows without conditions.
  std::set<std::string> base_uncond(kBaselineAllowed.begin(), kBaselineAllowed.end());
  for (const auto& [name, rules] : special) {
    if (rules.size() == 1 && unconditional_allow(rules[0])) {
      base_uncond.insert(name);
    }
  }
  for (const auto& s : base_uncond) {
    if (denied.count(s)) {
      continue;
    }
    auto it = caller.find(s);
    if (it == caller.end()) {
      if (caller_default_allows) {
        uncond.push_back(s);
      }
      continue;
    }
    for (const Json* r : it->second) {
      if (unconditional_allow(*r)) {
        uncond.push_back(s);
      } else {
        per_syscall[s].push_back(single(*r, s));
      }
    }
  }
  // 2. Syscalls with baseline-specific rules (conditions, or an errno of their own).
  for (const auto& [s, rules] : special) {
    if (base_uncond.count(s)) {
      continue;
    }
    if (denied.count(s)) {
      continue;
    }
    bool base_allows = std::any_of(rules.begin(), rules.end(), [](const Json& r) { return allow_like(action_of(r)); });
    auto it = caller.find(s);
    bool caller_allows = it == caller.end() ? caller_default_allows : !caller_denies(it->second);
    if (base_allows && !caller_allows) {
      if (it != caller.end()) {
        for (const Json* r : it->second) {
          per_syscall[s].push_back(single(*r, s));  // the caller's denial, with its own errno
        }
      }
      continue;
    }
    per_syscall[s] = rules;
  }
  // 3. The caller's denials of syscalls the baseline denies anyway keep their errno (e.g. a
  //    caller that answers ENOSYS on purpose).
  for (const auto& [s, rules] : caller) {
    if (base_uncond.count(s) && !denied.count(s)) {
      continue;
    }
    if (special.count(s) && !denied.count(s)) {
      continue;
    }
    for (const Json* r : rules) {
      if (!allow_like(action_of(*r))) {
        per_syscall[s].push_back(single(*r, s));
      }
    }
  }

  std::sort(uncond.begin(), uncond.end());
  uncond.erase(std::unique(uncond.begin(), uncond.end()), uncond.end());

  // The caller's other fields (architectures, flags, listenerPath...) are kept.
  Json out = Json::object();
  if (have_request) {
    for (auto it = requested.begin(); it != requested.end(); ++it) {
      if (it.key() != "syscalls") {
        out[it.key()] = it.value();
      }
    }
  }
  bool caller_default_kills = have_request && !allow_like(caller_default) && caller_default != "SCMP_ACT_ERRNO";
  if (!caller_default_kills) {
    out["defaultAction"] = "SCMP_ACT_ERRNO";
    out["defaultErrnoRet"] = 1;
  }
  if (!out.contains("architectures") || !out["architectures"].is_array() || out["architectures"].empty()) {
    out["architectures"] = architectures();
  }
  Json syscalls = Json::array();
  if (!uncond.empty()) {
    syscalls.push_back(Json{{"names", uncond}, {"action", "SCMP_ACT_ALLOW"}});
  }
  for (auto& [s, rules] : per_syscall) {
    for (auto& r : rules) {
      if (std::find(syscalls.begin(), syscalls.end(), r) == syscalls.end()) {
        syscalls.push_back(r);
      }
    }
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

}  // namespace policy
