#pragma once
// The OCI runtime spec (config.json) kept as an order-preserving JSON document, so that a
// rewrite keeps every field cove does not know about, in its original order. Typed access is
// through small helpers; the policy engine edits the document in place.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace oci {

using Json = nlohmann::ordered_json;

struct Bundle {
  std::string dir;
  std::string config_path;  // <dir>/config.json
  std::string original;     // the bytes as read
  Json spec;
};

/// Reads and parses <dir>/config.json. Errors name the file and, for bad JSON, line and column.
/// A document whose top level is not an object, or whose `process`, `linux` or `mounts` have the
/// wrong JSON type, is refused here with the field named.
[[nodiscard]] base::Result<Bundle> load_bundle(const std::string& dir);

/// Serialises the spec compactly (as Docker and containerd write it).
std::string dump_spec(const Json& spec);

/// Writes the spec atomically over config.json (temp file in the bundle, then rename).
[[nodiscard]] base::Result<void> save_bundle(const Bundle& b);

/// The value of KEY in process.env ("KEY=value"), if present. The last one wins, as in execve.
std::optional<std::string> env_value(const Json& spec, std::string_view key);

/// The value of an annotation, if present and a string.
std::optional<std::string> annotation(const Json& spec, std::string_view key);

/// Checks the JSON types of the fields cove reads or edits; errors name the JSON path.
[[nodiscard]] base::Result<void> check_shape(const Json& spec);

}  // namespace oci
