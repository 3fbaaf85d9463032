#include "fusefs/view.h"

#include "policy/path_match.h"

namespace fusefs {

namespace {

bool any_role_hides(const policy::Policy* policy) {
  if (policy == nullptr) {
    return false;
  }
  for (const auto& [name, role] : policy->roles) {
    if (role.workspace && !role.workspace->hidden_paths.empty()) {
      return true;
    }
  }
  return false;
}

}  // namespace

Views::Views(const policy::Policy* policy, std::string team, bool default_rw)
    : policy_(policy), team_(std::move(team)), default_rw_(default_rw), hides_names_(any_role_hides(policy)) {}

const policy::Workspace* Views::workspace_of(const Caller& caller) const {
  if (policy_ == nullptr) {
    return nullptr;
  }
  const policy::Role* role = policy_->find_role(caller.role);
  if (role == nullptr || !role->workspace) {
    return nullptr;
  }
  return &*role->workspace;
}

Access Views::access(const Caller& caller, std::string_view path) const {
  if (!caller.container) {
    return default_rw_ ? Access::kReadWrite : Access::kReadOnly;
  }
  if (policy_ == nullptr) {
    return default_rw_ ? Access::kReadWrite : Access::kReadOnly;
  }
  if (caller.team != team_) {
    return Access::kNone;
  }
  const policy::Workspace* ws = workspace_of(caller);
  if (ws == nullptr) {
    return Access::kNone;
  }
  if (policy::path_matches_any(ws->hidden_paths, path)) {
    return Access::kNone;
  }
  if (ws->read_only || policy::path_matches_any(ws->protected_paths, path)) {
    return Access::kReadOnly;
  }
  return Access::kReadWrite;
}

bool Views::hidden(const Caller& caller, std::string_view path) const {
  if (!caller.container || policy_ == nullptr || path.empty()) {
    return false;
  }
  const policy::Workspace* ws = workspace_of(caller);
  return ws != nullptr && policy::path_matches_any(ws->hidden_paths, path);
}

bool Views::hidden_for_anyone(std::string_view path) const {
  if (policy_ == nullptr || path.empty()) {
    return false;
  }
  for (const auto& [name, role] : policy_->roles) {
    if (role.workspace && policy::path_matches_any(role.workspace->hidden_paths, path)) {
      return true;
    }
  }
  return false;
}

}  // namespace fusefs
