#pragma once
// cove audit log: query cove-runtime's decision log (one JSON object per line; the format is in
// policy/audit.h and docs/policy.md). The file comes from --file, else from the auditLog of the
// policy (--policy, default /etc/cove/policy.json). Lines that are not JSON objects are skipped
// and counted on stderr: a log being appended to may end in a partial line.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

/// Seconds since the epoch of an RFC 3339 time ("2026-11-24T06:17:00.123456789Z", offsets
/// "+02:00" accepted).
[[nodiscard]] base::Result<double> parse_rfc3339(const std::string& text);

/// --since: an RFC 3339 time, a date ("2026-11-24", midnight UTC), or a duration before `now`
/// ("90s", "15m", "2h", "7d").
[[nodiscard]] base::Result<double> parse_since(const std::string& text, double now);

struct AuditQuery {
  std::optional<double> since;
  std::string container;  // ID or ID prefix
  std::string role;
  bool refused_only = false;
};

/// True if the record passes every filter of the query. Records without a readable time do not
/// pass a --since filter.
bool audit_matches(const nlohmann::ordered_json& record, const AuditQuery& q);

struct AuditLogOptions {
  std::string file;
  std::string policy;
  std::string since;
  std::string container;
  std::string role;
  bool refused = false;
  bool json = false;
};

CLI::App* add_audit_log(CLI::App& audit, AuditLogOptions& o);

/// 0 (also when nothing matches), 2 when the log or the policy naming it cannot be read or a
/// filter is malformed.
int audit_log(const AuditLogOptions& o, const Io& io);

}  // namespace cli
