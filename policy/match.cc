#include "policy/match.h"

#include "oci/spec.h"

namespace policy {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

base::Result<Selection> select_role(const Policy& p, const nlohmann::ordered_json& spec,
                                    const std::optional<std::string>& fixed_role) {
  Selection sel;
  auto pick = [&](const char* annotation_key, const char* env_key, std::string& source) {
    if (auto a = oci::annotation(spec, annotation_key); a && !a->empty()) {
      source = std::string("annotation ") + annotation_key;
      return *a;
    }
    if (auto e = oci::env_value(spec, env_key); e && !e->empty()) {
      source = std::string("env ") + env_key;
      return *e;
    }
    return std::string();
  };
  std::string team_source;
  std::string agent_source;
  std::string role_source;
  sel.id.team = pick("dev.cove.team", "COVE_TEAM", team_source);
  sel.id.agent = pick("dev.cove.agent", "COVE_AGENT", agent_source);
  if (!sel.id.team.empty() && !valid_name(sel.id.team)) {
    return base::Error::make(EINVAL, "team \"{}\" (from {}) is not a valid name: letters, digits, '.', '_', '-'",
                             sel.id.team, team_source);
  }
  if (!sel.id.agent.empty() && !valid_name(sel.id.agent)) {
    return base::Error::make(EINVAL, "agent \"{}\" (from {}) is not a valid name: letters, digits, '.', '_', '-'",
                             sel.id.agent, agent_source);
  }
  std::string role;
  if (fixed_role && !fixed_role->empty()) {
    role = *fixed_role;
    role_source = "runtime-args";
  } else {
    role = pick("dev.cove.role", "COVE_ROLE", role_source);
  }
  if (role.empty()) {
    switch (p.unmatched) {
      case Unmatched::kRefuse:
        return base::Error::make(EPERM,
                                 "container names no role (set env COVE_ROLE or annotation dev.cove.role; "
                                 "roles: {}) and policy {} refuses unmatched containers (rule unmatched.action)",
                                 p.role_names(), p.path);
      case Unmatched::kPassthrough:
        sel.id.role_source = "unmatched";
        return sel;
      case Unmatched::kRole:
        role = p.unmatched_role;
        role_source = "unmatched";
        break;
    }
  }
  sel.role = p.find_role(role);
  if (sel.role == nullptr) {
    return base::Error::make(EINVAL, "role \"{}\" (from {}) is not in policy {} (roles: {})", role,
                             role_source, p.path, p.role_names());
  }
  sel.id.role = role;
  sel.id.role_source = role_source;
  return sel;
}

}  // namespace policy
