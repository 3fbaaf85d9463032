#pragma once
// cove policy lint FILE: every problem of a policy file, each with the file, the JSON path and a
// reason. The checks and their ids are listed in docs/cli.md.
//
// The strict loader (policy::parse_policy) stops at the first error. Lint reports that error as
// a finding, removes what the loader rejected from its own copy of the document and loads again,
// so that one typo does not hide the rest; names the loader would reject anyway (unknown
// capabilities and syscalls) are checked on the raw JSON first. Everything else is checked on the
// loaded model, so lint and cove-runtime never disagree about what a policy means.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

/// The host facts lint compares limits and backends with. Absent facts skip their checks.
struct LintHost {
  std::optional<int64_t> mem_total;  // bytes, /proc/meminfo MemTotal
  std::optional<int64_t> cpus;       // online CPUs
  std::optional<int64_t> pid_max;    // /proc/sys/kernel/pid_max
  /// True if the path is an executable file; unset: backends are not checked.
  std::function<bool(const std::string&)> is_executable;
};

/// The machine lint runs on.
LintHost real_lint_host();

/// Every finding for the policy `text` read from `file`. Never fails: a document the loader
/// rejects, or that is not JSON at all, yields findings.
std::vector<Finding> lint_policy(const std::string& text, const std::string& file, const LintHost& host);

struct PolicyLintOptions {
  std::string file;
  bool json = false;
  bool strict = false;   // warnings fail too
  bool no_host = false;  // skip the checks against this machine
};

CLI::App* add_policy_lint(CLI::App& policy, PolicyLintOptions& o);

/// 0: no errors (and with --strict no warnings); 1: findings; 2: the file cannot be read.
int policy_lint(const PolicyLintOptions& o, const Io& io);

}  // namespace cli
