#include "tools/cli/seccomp_view.h"

#include <seccomp.h>

#include <algorithm>
#include <cstring>

#include "policy/seccomp.h"

namespace cli {

using Json = nlohmann::ordered_json;

namespace {

bool has_args(const Json& rule) {
  auto a = rule.find("args");
  return a != rule.end() && a->is_array() && !a->empty();
}

int rank(SyscallAccess a) {
  switch (a) {
    case SyscallAccess::kDenied:
      return 0;
    case SyscallAccess::kConditional:
      return 1;
    case SyscallAccess::kAllowed:
      return 2;
  }
  return 0;
}

}  // namespace

const char* access_name(SyscallAccess a) {
  switch (a) {
    case SyscallAccess::kAllowed:
      return "allowed";
    case SyscallAccess::kConditional:
      return "conditional";
    case SyscallAccess::kDenied:
      return "denied";
  }
  return "denied";
}

std::string describe_action(const std::string& action, int errno_ret) {
  if (action == "SCMP_ACT_ERRNO") {
    const char* name = strerrorname_np(errno_ret);
    return std::string("fail with ") + (name != nullptr ? name : "errno " + std::to_string(errno_ret));
  }
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") {
    return "kill the thread";
  }
  if (action == "SCMP_ACT_KILL_PROCESS") {
    return "kill the process";
  }
  if (action == "SCMP_ACT_TRAP") {
    return "raise SIGSYS";
  }
  if (action == "SCMP_ACT_ALLOW") {
    return "allow";
  }
  if (action == "SCMP_ACT_LOG") {
    return "allow and log";
  }
  return action;
}

SeccompView::SeccompView(const Json& profile) {
  default_action_ = "SCMP_ACT_ALLOW";
  if (!profile.is_object()) {
    default_allows_ = true;
    return;
  }
  if (auto d = profile.find("defaultAction"); d != profile.end() && d->is_string()) {
    default_action_ = d->get<std::string>();
  }
  if (auto e = profile.find("defaultErrnoRet"); e != profile.end() && e->is_number_integer()) {
    default_errno_ = e->get<int>();
  }
  default_allows_ = !policy::seccomp_action_denies(default_action_);
  auto sc = profile.find("syscalls");
  if (sc == profile.end() || !sc->is_array()) {
    return;
  }
  // A syscall's access is the most permissive of its rules: allowed outright beats allowed with
  // conditions beats denied (a denying rule with conditions only narrows the default).
  for (const auto& rule : *sc) {
    if (!rule.is_object() || !rule.contains("names") || !rule["names"].is_array()) {
      continue;
    }
    std::string action = rule.value("action", "SCMP_ACT_ALLOW");
    bool allows = !policy::seccomp_action_denies(action);
    SyscallAccess a =
        !allows ? SyscallAccess::kDenied : (has_args(rule) ? SyscallAccess::kConditional : SyscallAccess::kAllowed);
    for (const auto& n : rule["names"]) {
      if (!n.is_string()) {
        continue;
      }
      std::string name = n.get<std::string>();
      names_.insert(name);
      auto it = access_.find(name);
      if (it == access_.end() || rank(a) > rank(it->second)) {
        access_[name] = a;
      }
      if (a == SyscallAccess::kConditional) {
        conditions_[name].push_back(rule["args"]);
      }
    }
  }
}

SyscallAccess SeccompView::access(const std::string& name) const {
  auto it = access_.find(name);
  if (it != access_.end()) {
    return it->second;
  }
  return default_allows_ ? SyscallAccess::kAllowed : SyscallAccess::kDenied;
}

Json SeccompView::conditions(const std::string& name) const {
  if (access(name) != SyscallAccess::kConditional) {
    return Json::array();
  }
  auto it = conditions_.find(name);
  return it == conditions_.end() ? Json::array() : it->second;
}

std::vector<std::string> SeccompView::named(SyscallAccess a) const {
  std::vector<std::string> out;
  for (const auto& [name, acc] : access_) {
    if (acc == a) {
      out.push_back(name);
    }
  }
  return out;
}

std::string SeccompView::default_action_text() const { return describe_action(default_action_, default_errno_); }

SeccompDelta compare_seccomp(const SeccompView& reference, const SeccompView& candidate) {
  std::set<std::string> universe = reference.names();
  universe.insert(candidate.names().begin(), candidate.names().end());
  if (reference.default_allows() || candidate.default_allows()) {
    const auto& all = native_syscall_names();
    universe.insert(all.begin(), all.end());
  }
  SeccompDelta d;
  for (const auto& name : universe) {
    int r = rank(reference.access(name));
    int c = rank(candidate.access(name));
    if (c < r) {
      d.stricter.push_back(name);
    } else if (c > r) {
      d.looser.push_back(name);
    }
  }
  return d;
}

const std::vector<std::string>& native_syscall_names() {
  static const std::vector<std::string> names = [] {
    std::set<std::string> s;
    // Syscall numbers on the native ABI stay below 1024 (x86_64 tops out near 460 in 2024);
    // x32's carry a high bit but share names with x86_64.
    for (int nr = 0; nr < 1024; ++nr) {
      char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      if (n != nullptr) {
        s.insert(n);
        free(n);  // NOLINT: libseccomp's allocation
      }
    }
    return std::vector<std::string>(s.begin(), s.end());
  }();
  return names;
}

}  // namespace cli
