#pragma once
// cove policy diff OLD NEW: what a policy change does to each role, the changes that loosen
// security first. Both files are loaded with the policy library and compared through their
// explain models (policy_explain.h), so comments, key order and spelling (2GiB vs 2048MiB)
// never show up as changes.
//
// Effects:
//   loosens   a container can do more than before: a capability, syscall, bind source or
//             namespace allowed, a limit raised or removed, a protection removed, a role added
//             (a container naming it was refused before), unmatched containers let through;
//   tightens  the reverse;
//   other     neither (backend, paths, tmpfs options).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

enum class Effect { kLoosens, kTightens, kOther };

const char* effect_name(Effect e);

struct PolicyChange {
  Effect effect = Effect::kOther;
  std::string role;   // "" for a policy-wide setting
  std::string field;  // explain-model path, e.g. "capabilities", "limits.memory.limit"
  Json from;
  Json to;
  std::string summary;  // "+ CAP_SYS_ADMIN", "2 GiB -> 4 GiB"
};

/// Every change between two explain_policy() models, loosening first, then tightening, then the
/// rest; within each, policy-wide first, then by role name and field.
std::vector<PolicyChange> diff_policies(const Json& old_model, const Json& new_model);

struct PolicyDiffOptions {
  std::string old_file;
  std::string new_file;
  bool json = false;
};

CLI::App* add_policy_diff(CLI::App& policy, PolicyDiffOptions& o);

/// 0: nothing loosens; 1: some change loosens; 2: a policy does not load.
int policy_diff(const PolicyDiffOptions& o, const Io& io);

}  // namespace cli
