#pragma once
// cove policy bpf FILE --role R [--format pfc|bpf]: the role's effective seccomp profile
// compiled by libseccomp, for review (pfc: libseccomp's pseudo filter code) and for reproducible
// builds (bpf: the raw program). The translation from the OCI profile follows runc 1.1's:
// seccomp_init(default action), every listed architecture added, one rule per syscall name with
// its argument comparisons (conditions on the same argument become separate rules, as runc does),
// names libseccomp does not know skipped, rules whose action is the default skipped. runc also
// prepends an ENOSYS stub for syscalls newer than the profile; that preamble is not shown here.
// The output depends only on the policy and the libseccomp version: two runs give the same bytes.

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

enum class BpfFormat { kPfc, kBpf };

/// Compiles an OCI `linux.seccomp` object with libseccomp and exports it.
[[nodiscard]] base::Result<std::string> compile_seccomp(const Json& profile, BpfFormat format);

struct PolicyBpfOptions {
  std::string file;
  std::string role;
  std::string format = "pfc";
  std::string merge_with;  // a config.json or profile to merge with, as cove-runtime would
};

CLI::App* add_policy_bpf(CLI::App& policy, PolicyBpfOptions& o);

/// 0, or 2 when the policy does not load, names no such role, or libseccomp refuses the profile.
int policy_bpf(const PolicyBpfOptions& o, const Io& io);

}  // namespace cli
