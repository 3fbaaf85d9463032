#pragma once
// The command-line grammar of runc 1.1 (and crun, which accepts the same), as Docker, containerd
// and Kubernetes call it: `RUNTIME [global flags] VERB [verb flags] [ID] [args...]`.
//
// Go's flag package (urfave/cli v1) accepts `-flag` and `--flag`, `--flag value` and
// `--flag=value` for value flags, `--flag` and `--flag=true|false` for bools, stops at the first
// positional argument or at `--`, and never combines short flags. cove's own flags
// (`--cove-policy`, `--cove-role`, `--cove-state-dir`) sit among the global flags, where Docker
// puts `runtimeArgs`, and are removed before the backend is executed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace oci {

/// A flag as given: canonical long name (without dashes), its value (bool flags get "true" or the
/// explicit `=value`), and the index of its first argv word.
struct Flag {
  std::string name;
  std::string value;
  bool has_explicit_value = false;
  size_t index = 0;
};

/// Verbs that read a bundle or a process spec and so go through the policy.
enum class VerbClass { kCreate, kExec, kUpdate, kPassthrough };

struct Invocation {
  /// The backend's argv: the original arguments minus cove's own flags (argv[0] kept as given).
  std::vector<std::string> backend_argv;
  /// Global flags (runc's, by canonical name), in order.
  std::vector<Flag> globals;
  /// cove's own flags.
  std::optional<std::string> cove_policy;
  std::optional<std::string> cove_role;
  std::optional<std::string> cove_state_dir;
  /// The verb ("" for `--version`, `--help` or no verb at all).
  std::string verb;
  /// Verb flags, in order; repeatable flags (`--env`, `--cap`) appear once per use.
  std::vector<Flag> flags;
  /// Positional arguments after the verb flags: the container ID first, then e.g. exec's command.
  std::vector<std::string> positionals;
  /// Index in backend_argv of the first positional (the ID), or npos.
  size_t id_index = std::string::npos;

  VerbClass verb_class() const;
  /// The container ID, if the verb takes one and it was given.
  std::string id() const { return positionals.empty() ? std::string() : positionals.front(); }
  /// The last value of a verb flag (Go semantics: the last one wins).
  std::optional<std::string> flag(std::string_view name) const;
  /// Every value of a repeatable verb flag.
  std::vector<std::string> flag_all(std::string_view name) const;
  std::optional<std::string> global(std::string_view name) const;
};

/// Parses argv. Unknown verb flags are an error for policed verbs (their meaning could raise
/// privilege or hide the container ID); for other verbs they are kept and left to the backend.
/// Unknown global flags pass through when written `--name=value`, because their arity is then
/// unambiguous; a bare unknown global flag is an error.
[[nodiscard]] base::Result<Invocation> parse_invocation(const std::vector<std::string>& argv);

/// True if `verb` is a verb runc 1.1 knows.
bool is_known_verb(std::string_view verb);

}  // namespace oci
