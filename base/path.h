#pragma once
// Lexical path predicates (no filesystem access).

#include <string_view>

namespace base {

/// True if `path` is `prefix` or below it, component-wise ("/a/bc" is not under "/a/b"); every
/// path is under "/". Both are taken as written: resolve symlinks and "." first where it matters.
inline bool path_under(std::string_view path, std::string_view prefix) {
  if (prefix == "/") {
    return true;
  }
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

}  // namespace base
