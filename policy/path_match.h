#pragma once
// Workspace path globs, as used by a role's protected and hidden paths. A pattern is a
// '/'-separated list of components relative to the workspace root:
//   `**`      matches zero or more whole components;
//   `*`, `?`, `[...]` match within one component (fnmatch; a leading '.' is matched literally
//             only by a pattern that starts with '.');
// A pattern that matches a directory also covers everything below it, so ".git/hooks" and
// ".git/hooks/**" mean the same.

#include <string_view>
#include <vector>
#include <string>

namespace policy {

/// True if `path` (relative, no leading '/', "" for the root) or one of its ancestors matches
/// `pattern`.
bool path_matches(std::string_view pattern, std::string_view path);

/// True if any pattern matches.
bool path_matches_any(const std::vector<std::string>& patterns, std::string_view path);

}  // namespace policy
