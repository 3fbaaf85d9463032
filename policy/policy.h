#pragma once
// The policy file: roles and what each one does to a container's spec. docs/policy.md is the
// reference for users; this is the model. Loading is strict: an unknown key, a wrong type, an
// unknown capability or syscall name is an error that names the file and the JSON path, because a
// typo in a security policy must never silently mean "no restriction".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace policy {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Rlimit {
  std::string type;  // RLIMIT_NOFILE, ...
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct TmpfsMount {
  std::string destination;
  std::vector<std::string> options;
};

struct MountRules {
  /// Host paths that may never be mounted, nor any directory that contains them.
  std::vector<std::string> deny;
  /// Host path prefixes bind mounts may come from; empty means no bind mounts at all.
  std::vector<std::string> allow;
  /// Host path prefixes whose bind mounts are forced read-only.
  std::vector<std::string> read_only;
};

struct Workspace {
  std::string destination = "/workspace";
  bool read_only = false;
  /// Paths (globs relative to the workspace root, see path_match.h) that stay read-only inside
  /// a read-write view, e.g. ".git/hooks/**".
  std::vector<std::string> protected_paths;
  /// Paths absent from this role's view (lookups fail with ENOENT, readdir omits them).
  std::vector<std::string> hidden_paths;
};

struct Seccomp {
  std::string baseline = "cove-default";
  /// Extra syscalls to deny with EPERM on top of the baseline.
  std::vector<std::string> deny;
};

struct Cpu {
  double cpus = 0;         // quota / period
  uint64_t period = 100000;  // microseconds
};

struct HostNamespaces {
  bool network = false;
  bool pid = false;
  bool ipc = false;
};

struct Role {
  std::string name;
  std::string backend;  // absolute path of runc, crun or sysbox-runc
  std::optional<User> user;
  std::vector<uint32_t> additional_gids;  // allowed supplementary groups
  bool no_new_privileges = true;
  std::vector<std::string> capabilities;  // kept; every other one is dropped
  Seccomp seccomp;
  std::optional<int64_t> memory_limit;
  std::optional<int64_t> memory_reservation;
  std::optional<Cpu> cpu;
  std::optional<int64_t> pids;
  std::vector<Rlimit> rlimits;
  bool readonly_rootfs = false;
  std::vector<TmpfsMount> tmpfs;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  MountRules mounts;
  std::optional<Workspace> workspace;
  HostNamespaces host_namespaces;
};

enum class Unmatched { kRole, kPassthrough, kRefuse };

/// A team's workspace limits, enforced by covefs.
struct Quota {
  std::optional<int64_t> bytes;   // disk usage (allocated blocks)
  std::optional<int64_t> inodes;  // files, directories, symlinks
};

struct Policy {
  std::string path;    // where it was read from
  std::string digest;  // "sha256:<hex>" of the file's bytes
  std::string audit_log;
  std::string state_dir = "/run/cove";
  std::string workspace_root = "/run/cove/teams";
  std::string default_backend = "/usr/bin/runc";
  Unmatched unmatched = Unmatched::kRefuse;
  std::string unmatched_role;
  std::map<std::string, Role> roles;
  /// Per-team quotas; the key "*" applies to teams without their own entry.
  std::map<std::string, Quota> quotas;

  /// The quota of `team` ("*" if it has none of its own; empty if neither exists).
  Quota quota_for(const std::string& team) const;

  const Role* find_role(const std::string& name) const;
  /// "agent, preview, sync"
  std::string role_names() const;
};

/// The policy file used when neither --cove-policy nor COVE_POLICY names one.
inline constexpr const char* kDefaultPolicyPath = "/etc/cove/policy.json";

/// Parses policy text (JSON with comments). `what` names the source in errors.
[[nodiscard]] base::Result<Policy> parse_policy(const std::string& text, const std::string& what);

/// Reads and parses a policy file.
[[nodiscard]] base::Result<Policy> load_policy(const std::string& path);

/// Parses "2GiB", "512MiB", "64k", "1073741824" into bytes (binary units; k/m/g accepted as
/// KiB/MiB/GiB, as Docker does).
[[nodiscard]] base::Result<int64_t> parse_size(const std::string& text);

/// True if `name` is a capability libcap knows ("CAP_SYS_ADMIN").
bool is_known_capability(const std::string& name);

/// True if libseccomp knows `name` as a syscall on the native architecture.
bool is_known_syscall(const std::string& name);

}  // namespace policy
