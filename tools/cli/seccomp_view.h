#pragma once
// A seccomp profile (OCI `linux.seccomp`) as a reviewer reads it: for each syscall, is it
// allowed outright, allowed only with certain arguments, or denied? Explain, diff and lint
// compare profiles through this view; `policy bpf` compiles the profile itself.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli {

enum class SyscallAccess { kAllowed, kConditional, kDenied };

/// "allowed", "conditional", "denied"
const char* access_name(SyscallAccess a);

class SeccompView {
 public:
  explicit SeccompView(const nlohmann::ordered_json& profile);

  /// How the profile treats `name`; a syscall no rule names gets the default action.
  SyscallAccess access(const std::string& name) const;
  /// The argument conditions of the allowing rules for `name` (empty unless conditional).
  nlohmann::ordered_json conditions(const std::string& name) const;
  /// The syscalls with this access among those the profile names, sorted. For kDenied this
  /// lists only explicit denials (e.g. clone3's ENOSYS), not everything the default denies.
  std::vector<std::string> named(SyscallAccess a) const;
  /// Every syscall some rule names.
  const std::set<std::string>& names() const { return names_; }
  bool default_allows() const { return default_allows_; }
  const std::string& default_action() const { return default_action_; }
  /// "fail with EPERM", "kill the process", "allowed" ...
  std::string default_action_text() const;

 private:
  std::string default_action_;
  int default_errno_ = 1;
  bool default_allows_ = false;
  std::set<std::string> names_;
  std::map<std::string, SyscallAccess> access_;
  std::map<std::string, nlohmann::ordered_json> conditions_;
};

/// Describes an action with its errno: "fail with EPERM", "fail with ENOSYS", "kill the
/// process", "allow".
std::string describe_action(const std::string& action, int errno_ret);

struct SeccompDelta {
  /// Syscalls `candidate` denies or conditions that `reference` allows (outright or with
  /// conditions / outright), sorted.
  std::vector<std::string> stricter;
  /// The reverse: what `candidate` allows more freely than `reference`.
  std::vector<std::string> looser;
};

/// How `candidate` differs from `reference`, syscall by syscall (every syscall either names,
/// plus every syscall of the native architecture when a default action allows).
SeccompDelta compare_seccomp(const SeccompView& reference, const SeccompView& candidate);

/// The syscall names of the native architecture (libseccomp's table), sorted.
const std::vector<std::string>& native_syscall_names();

}  // namespace cli
