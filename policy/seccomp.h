#pragma once
// Seccomp: cove's built-in baseline profile and its tighten-only merge with the profile the
// caller asked for (Docker puts its default profile into config.json).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace policy {

using Json = nlohmann::ordered_json;

/// The syscalls the baseline allows without conditions (before a role's extra denials).
const std::vector<std::string>& baseline_allowed_syscalls();

/// The baseline as an OCI `linux.seccomp` object: default ERRNO(EPERM); an allow-list that is
/// Docker 20.10's default minus io_uring_*, modify_ldt, chroot and ptrace (Docker allows ptrace on
/// kernels >= 4.8); clone without namespace flags; personality for the five harmless personas;
/// clone3 answered ENOSYS so that glibc falls back to clone, whose flags can be inspected.
/// `deny` removes syscalls from every allow rule.
Json baseline_profile(const std::vector<std::string>& deny);

/// Tighten-only merge. A syscall is allowed in the result only if both the baseline (minus
/// `deny`) and `requested` allow it:
/// - baseline allows unconditionally: the caller's own rules for it are kept as they are
///   (whatever they say is at least as strict as "allow");
/// - baseline allows with argument conditions (clone, personality): the caller's rules are kept
///   if they deny, otherwise the baseline's conditions apply (two sets of conditions cannot be
///   ANDed in one OCI profile; the baseline's are the stricter by construction);
/// - baseline denies: the caller's denying rules are kept, its allowing ones dropped.
/// The default action is the caller's if it kills or traps, else the baseline's. The output is
/// canonical (one unconditional allow rule, then per-syscall rules in name order), so merging
/// the result again gives the same bytes. `requested` null means "no profile": the baseline.
Json merge_seccomp(const Json& requested, const std::vector<std::string>& deny);

/// True if the action string denies (ERRNO, KILL*, TRAP).
bool seccomp_action_denies(const std::string& action);

}  // namespace policy
