#pragma once
// The audit log: one JSON object per line, one line per decision cove-runtime takes (create,
// run, restore, exec, update), appended with a single O_APPEND write so that concurrent shims
// never interleave. Fields:
//
//   time       RFC 3339 UTC with nanoseconds
//   verb       create | run | restore | exec | update
//   container  the container ID
//   role, roleSource, team, agent
//   policy     the policy file's path; policyDigest "sha256:<hex>" of its bytes
//   backend    the runtime executed (absent on refusal)
//   decision   "allow" or "refuse"
//   changes    [{field, from, to, rule}], every edit applied to the spec or process
//   refusals   [{rule, field, message}]
//
// Readers (cove audit log) must ignore fields they do not know; new fields may be added.

#include <string>

#include <nlohmann/json.hpp>

#include "policy/apply.h"
#include "policy/match.h"
#include "policy/policy.h"

namespace policy {

struct AuditEvent {
  std::string verb;
  std::string container;
  Identity id;
  std::string backend;
  const Decision* decision = nullptr;
};

/// The audit record for one decision, as one JSON line (no trailing newline).
std::string audit_line(const Policy& p, const AuditEvent& e);

}  // namespace policy
