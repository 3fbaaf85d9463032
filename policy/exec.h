#pragma once
// `exec` and `update` after create: both can raise what the container was given, so both are
// policed against its role.
//
// exec: the process file (`--process`, which Docker and containerd always use) is clamped:
// capabilities to the role's keep list, no-new-privileges on, user forced to the role's user,
// rlimits lowered. A plain `docker exec` asks for Docker's default capabilities and the image's
// user (often root): that is clamped silently, as create was. Asking for a capability the
// container was not created with (`docker exec --privileged`) is a privilege escalation and is
// refused, as are runc's flags that raise privilege (--cap outside the role, --no-new-privs=false,
// --user other than the role's, --apparmor, --process-label).
//
// update: a limit above the role's (or "unlimited") is refused; lower limits pass. The caller
// asked explicitly for more, so silently granting less would mislead it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cli.h"
#include "policy/apply.h"
#include "policy/policy.h"

namespace policy {

/// Facts recorded at create that exec needs.
struct CreatedWith {
  std::vector<std::string> bounding;  // capabilities.bounding the caller asked for at create
  std::string apparmor_profile;       // after policy
  std::string selinux_label;          // after policy
};

/// Clamps an OCI process object (the --process file) in place.
Decision clamp_exec_process(const Role& role, const CreatedWith& created, Json& process);

/// Checks runc exec's privilege flags.
Decision check_exec_flags(const Role& role, const oci::Invocation& inv);

/// Checks an `update --resources` document (OCI LinuxResources).
Decision check_update_resources(const Role& role, const Json& resources);

/// Checks `update`'s per-field flags (--memory, --cpu-quota, ...).
Decision check_update_flags(const Role& role, const oci::Invocation& inv);

}  // namespace policy
