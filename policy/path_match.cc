#include "policy/path_match.h"

#include <fnmatch.h>

#include <string>

namespace policy {

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string_view::npos) {
      j = s.size();
    }
    if (j > i) {
      out.push_back(s.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

// Matches pattern components [pi..] against path components [si..]; a full match of the
// pattern against a prefix of the path counts (descendants are covered).
bool match_from(const std::vector<std::string_view>& pat, size_t pi, const std::vector<std::string_view>& path,
                size_t si) {
  if (pi == pat.size()) {
    return true;  // the pattern matched a prefix: this path is at or below it
  }
  if (pat[pi] == "**") {
    for (size_t k = si; k <= path.size(); ++k) {
      if (match_from(pat, pi + 1, path, k)) {
        return true;
      }
    }
    return false;
  }
  if (si == path.size()) {
    return false;
  }
  std::string p(pat[pi]);
  std::string c(path[si]);
  if (fnmatch(p.c_str(), c.c_str(), FNM_PERIOD) != 0) {
    return false;
  }
  return match_from(pat, pi + 1, path, si + 1);
}

}  // namespace

bool path_matches(std::string_view pattern, std::string_view path) {
  auto pat = split(pattern);
  if (pat.empty()) {
    return false;
  }
  return match_from(pat, 0, split(path), 0);
}

bool path_matches_any(const std::vector<std::string>& patterns, std::string_view path) {
  for (const auto& p : patterns) {
    if (path_matches(p, path)) {
      return true;
    }
  }
  return false;
}

}  // namespace policy
