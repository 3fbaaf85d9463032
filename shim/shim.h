#pragma once
// cove-runtime: parse a runc command line, police the verbs that can grant privilege (create,
// run, restore, exec, update), then execve the backend runtime with the same argv (cove's own
// flags removed). Nothing is printed on stdout; refusals go to runc's --log file as one error
// line and exit 1, which Docker shows to the user.

#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/result.h"
#include "oci/cli.h"
#include "policy/match.h"
#include "policy/policy.h"
#include "base/records.h"

namespace shim {

using base::ContainerRecord;
using base::load_record;
using base::save_record;
using base::sweep_records;
using base::valid_container_id;

struct Context {
  oci::Invocation inv;
  std::string log_path;
  base::LogFormat log_format = base::LogFormat::kText;
  std::string policy_path;
  std::optional<policy::Policy> policy;
  /// Replacement for fd 0 in the backend (update reads --resources from stdin, cove has read it).
  std::optional<std::string> stdin_bytes;

  /// Loads the policy once.
  [[nodiscard]] base::Result<const policy::Policy*> load_policy();
  /// --cove-state-dir, else COVE_STATE_DIR, else the policy's stateDir (default /run/cove).
  std::string state_dir();
  /// The backend's --root, or its default.
  std::string runtime_root(const std::string& backend) const;
};

/// The whole program. Returns an exit code only when it does not exec the backend.
int run(const std::vector<std::string>& argv);

// One file per verb family.
int run_create(Context& ctx);       // create.cc: create, run, restore
int run_exec(Context& ctx);         // exec.cc
int run_update(Context& ctx);       // update.cc
int run_passthrough(Context& ctx);  // shim.cc: every other verb

/// For exec and update: loads the container's record and role. `role` stays null for containers
/// cove passed through (no record, or created unmatched). Returns non-zero after a refusal.
int police_prelude(Context& ctx, std::optional<ContainerRecord>& rec, const policy::Role*& role);

/// The identity recorded at create.
policy::Identity identity_of(const ContainerRecord& rec);

/// Executes `backend` with the invocation's argv. Returns 1 (after logging) only if execve fails.
int exec_backend(Context& ctx, const std::string& backend);

/// Logs "cove: <msg>" as an error line to --log (or stderr) and returns 1.
int refuse(Context& ctx, const std::string& msg);

/// Appends the audit line, if the policy names an audit log. A failure to write it is an error
/// (security paths fail closed).
[[nodiscard]] base::Result<void> write_audit(Context& ctx, const std::string& line);

/// The backend for verbs after create: the recorded one, else the policy's default.
std::string backend_for(Context& ctx, const std::optional<ContainerRecord>& rec);

}  // namespace shim
