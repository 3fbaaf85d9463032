#pragma once
// JSON paths as the policy loader writes them in its errors: "roles.agent.capabilities[2]",
// "unmatched.role". Role names may themselves contain '.', so a path is split against the
// document it points into (the longest key that fits wins), not by its dots alone.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli {

using PathStep = std::variant<std::string, size_t>;  // object key or array index

struct ResolvedPath {
  std::vector<PathStep> steps;
  /// True if every step exists in the document; false if the path names something absent (a
  /// "missing" key): then `steps` holds the existing prefix followed by the first absent step
  /// (empty when the path is malformed).
  bool exists = false;
};

/// Splits `path` against `doc`.
ResolvedPath resolve_path(const nlohmann::ordered_json& doc, std::string_view path);

/// "roles.agent.capabilities[2]" from steps.
std::string format_path(const std::vector<PathStep>& steps);

/// The node at `steps`, or nullptr.
const nlohmann::ordered_json* node_at(const nlohmann::ordered_json& doc, const std::vector<PathStep>& steps);

/// Removes the node at `steps` (an object member or an array element). False if absent.
bool erase_at(nlohmann::ordered_json& doc, const std::vector<PathStep>& steps);

}  // namespace cli
