#pragma once
// cove policy explain FILE [--role R]: what each role does to a container, in words a reviewer
// who never saw the policy format can follow, measured against Docker's default (the yardstick
// everyone knows). The JSON model built here is also what `cove policy diff` compares, so the
// two commands can never disagree about what a role means.
//
// A role's effective seccomp profile is policy::baseline_profile(role deny list): what
// cove-runtime makes of a container that asks for no profile. A caller's own profile (Docker
// sends its default) is merged tighten-only, so it can only deny more.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

/// One role's effective settings (schema: docs/cli.md, "policy explain").
Json explain_role(const policy::Policy& p, const policy::Role& r);

/// The policy-wide settings and every role (or only `role`).
Json explain_policy(const policy::Policy& p, const std::optional<std::string>& role);

/// The human rendering of an explain_policy() model. `all_syscalls` lists every allowed syscall.
void print_explanation(const Json& model, const Io& io, bool all_syscalls);

/// "arg0 & 0x7e020000 == 0" from an OCI seccomp args array; rules joined with " or ".
std::string describe_conditions(const Json& rules);

struct PolicyExplainOptions {
  std::string file;
  std::string role;
  bool json = false;
  bool syscalls = false;
};

CLI::App* add_policy_explain(CLI::App& policy, PolicyExplainOptions& o);

/// 0, or 2 when the policy does not load or names no such role.
int policy_explain(const PolicyExplainOptions& o, const Io& io);

}  // namespace cli
