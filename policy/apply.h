#pragma once
// Applying a role to a container spec: the policy engine proper. Pure: spec in, spec out plus a
// Decision listing every change and every refusal; the host is consulted only through HostFacts.
//
// Tighten-only: every step lowers a limit, drops a capability, adds a denial or a read-only
// flag, or refuses; none raises what the caller asked for. Applying a role to its own output
// changes nothing (the tests check this on every fixture).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/host.h"
#include "policy/match.h"
#include "policy/policy.h"

namespace policy {

using Json = nlohmann::ordered_json;

struct Change {
  std::string field;  // JSON path in the spec, e.g. "linux.resources.memory.limit"
  Json from;          // null when the field was absent
  Json to;            // null when the field was removed
  std::string rule;   // the policy rule, e.g. "roles.agent.memory.limit"
};

struct Refusal {
  std::string rule;     // e.g. "roles.agent.mounts.deny"
  std::string field;    // e.g. "mounts[7].source"
  std::string message;  // the whole sentence for the user
};

struct Decision {
  std::vector<Change> changes;
  std::vector<Refusal> refusals;

  bool refused() const { return !refusals.empty(); }
  /// The refusals joined for the one-line error Docker shows.
  std::string refusal_message() const;
  void change(std::string field, Json from, Json to, std::string rule);
  void refuse(std::string rule, std::string field, std::string message);
};

struct ApplyContext {
  const Policy& policy;
  const Role& role;
  const Identity& id;
  const HostFacts& host;
};

/// Applies the role to `spec` in place.
Decision apply_role(const ApplyContext& ctx, Json& spec);

/// The covefs mountpoint of a team: <workspaceRoot>/<team>.
std::string workspace_source(const Policy& p, const std::string& team);

// The steps, one file each (capabilities.cc, cgroups.cc, mounts.cc, namespaces.cc), exposed
// for tests.
void apply_process(const ApplyContext& ctx, Json& spec, Decision& d);
void apply_resources(const ApplyContext& ctx, Json& spec, Decision& d);
void apply_mounts(const ApplyContext& ctx, Json& spec, Decision& d);
void apply_namespaces(const ApplyContext& ctx, Json& spec, Decision& d);
void apply_seccomp(const ApplyContext& ctx, Json& spec, Decision& d);

/// Clamps one capability list to the role's keep list, preserving order.
Json clamp_capability_list(const Json& list, const std::vector<std::string>& keep);

/// Clamps rlimits (an OCI process.rlimits array) to the role's, adding missing ones.
void clamp_rlimits(const Role& role, Json& process, const std::string& field_prefix, Decision& d);

/// A short description of a seccomp profile for audit records: "default SCMP_ACT_ERRNO, 350
/// allowed unconditionally, 9 other rules".
std::string describe_seccomp(const Json& profile);

}  // namespace policy
