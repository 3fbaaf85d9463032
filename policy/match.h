#pragma once
// Which role a container gets. In order of authority: a role fixed by the runtime's own
// arguments (daemon.json runtimeArgs, chosen by the operator), the annotation dev.cove.role
// (containerd, Kubernetes, Docker >= 24), then env COVE_ROLE in process.env (Docker 20.10 passes
// env but not labels). Team and agent come from dev.cove.team / COVE_TEAM and dev.cove.agent /
// COVE_AGENT the same way.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "policy/policy.h"

namespace policy {

struct Identity {
  std::string role;         // "" when passed through unmatched
  std::string role_source;  // "runtime-args", "annotation", "env", "unmatched"
  std::string team;
  std::string agent;
};

struct Selection {
  const Role* role = nullptr;  // nullptr: pass through untouched (policy unmatched.action)
  Identity id;
};

/// Picks the role. Errors (a refusal) name the source: an unknown role, a malformed team or agent
/// name, or no role with `unmatched.action: refuse`.
[[nodiscard]] base::Result<Selection> select_role(const Policy& p, const nlohmann::ordered_json& spec,
                                                  const std::optional<std::string>& fixed_role);

/// Team and agent names become paths and git author names: letters, digits, '.', '_', '-', at
/// most 64, not starting with '.'.
bool valid_name(const std::string& name);

}  // namespace policy
