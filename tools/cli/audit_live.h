#pragma once
// cove audit live: attest every running container cove created. For each container record in
// the state dir (base/records.h) whose container runs (runc's state in its root), read what the
// kernel enforces — /proc/<pid>/status (Seccomp, NoNewPrivs, the capability sets, ids), the
// cgroup limits (v1 and v2), the mounts and the namespaces — and compare it with what the role
// demands today. Anything looser than the role is drift; drift fails the command (exit 1).
// Stricter than the role is fine (a caller may ask for less).

#include <string>
#include <vector>

#include "base/records.h"
#include "policy/policy.h"
#include "tools/cli/container_facts.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

struct Drift {
  std::string field;     // what the kernel reports: "pids.max", "CapBnd", "Seccomp", "mount /workspace"
  std::string rule;      // the policy rule it breaks: "roles.agent.pids"
  std::string expected;  // "<= 512"
  std::string actual;    // "4096"
  std::string source;    // where it was read
};

/// "pids.max is 4096, expected <= 512 (rule roles.agent.pids; read from /sys/...)"
std::string describe(const Drift& d);

/// Compares a running container's facts with its role. Pure: everything it needs is passed in.
std::vector<Drift> attest(const policy::Policy& p, const policy::Role& role, const base::ContainerRecord& rec,
                          const ContainerFacts& facts, const std::vector<MountInfo>& host_mounts);

struct AuditLiveOptions {
  std::string policy;
  std::string state_dir;  // default: the policy's stateDir
  std::string root;       // default: the root in each record, else /run/runc
  std::string proc = "/proc";
  bool json = false;
};

CLI::App* add_audit_live(CLI::App& audit, AuditLiveOptions& o);

/// 0: every running container matches its role; 1: drift; 2: the policy or state dir cannot be
/// read.
int audit_live(const AuditLiveOptions& o, const Io& io);

}  // namespace cli
