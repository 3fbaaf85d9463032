#pragma once

#include <string>
#include <string_view>

namespace base {

/// SHA-256 of `data` as 64 lowercase hex digits (FIPS 180-4). Used for the policy digest in audit
/// records, so a reviewer can tie a decision to the exact policy bytes.
std::string sha256_hex(std::string_view data);

}  // namespace base
