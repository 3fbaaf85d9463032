#pragma once
// JSON with comments, for hand-written policy files.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace base {

/// Parses JSON that may hold // line and /* block */ comments (outside strings). Errors name
/// `what` (usually the file path) with line and column: "policy.json:12:5: syntax error ...".
/// The result keeps key order, so a rewritten document diffs cleanly against the original.
[[nodiscard]] Result<nlohmann::ordered_json> parse_jsonc(std::string_view text, const std::string& what);

/// Parses strict JSON (no comments) with the same error shape.
[[nodiscard]] Result<nlohmann::ordered_json> parse_json(std::string_view text, const std::string& what);

/// Replaces comments with spaces (newlines kept) so that offsets and line numbers are unchanged.
/// An unterminated block comment is reported as an error by the JSON parser afterwards.
std::string strip_json_comments(std::string_view text);

}  // namespace base
