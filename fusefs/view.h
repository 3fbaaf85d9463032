#pragma once
// Role views of the workspace. A container sees the workspace through its role: read-write or
// read-only, with protected paths (read-only inside a read-write view) and hidden paths (absent).
// Host processes see the mount's default view. A container of another team, or whose role has no
// workspace, sees nothing (EACCES): it should never have had the mount.
//
// The kernel caches dentries and attributes for all callers alike, so a hidden name must never be
// cached: lookups of names that are hidden for some role get a zero entry timeout, and so do the
// negative answers given to callers that cannot see them.

#include <string>
#include <string_view>

#include "fusefs/identity.h"
#include "policy/policy.h"

namespace fusefs {

enum class Access { kNone, kReadOnly, kReadWrite };

class Views {
 public:
  /// `policy` may be null (no roles: every container gets the default view). `default_rw` is the
  /// host's view.
  Views(const policy::Policy* policy, std::string team, bool default_rw);

  /// The access `caller` has to `path` (relative to the workspace root).
  Access access(const Caller& caller, std::string_view path) const;
  /// True if `path` is hidden from `caller`.
  bool hidden(const Caller& caller, std::string_view path) const;
  /// True if `path` is hidden from some role, so that the kernel must not cache it.
  bool hidden_for_anyone(std::string_view path) const;
  /// True if any role of the policy hides paths (fixed for the mount: asked at every OPENDIR).
  bool hides_names() const { return hides_names_; }

 private:
  const policy::Workspace* workspace_of(const Caller& caller) const;

  const policy::Policy* policy_;
  std::string team_;
  bool default_rw_;
  bool hides_names_;
};

}  // namespace fusefs
