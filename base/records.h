#pragma once
// Container records: what cove-runtime decided at create, kept for the verbs that follow (they
// carry no bundle, and Docker shares one --root across runtimes, so the backend must be
// remembered) and for covefs, which maps a caller's cgroup to its container's team and role.
//
// Layout: <stateDir>/containers/<id>.json, one JSON object per container, written atomically
// (temp file + rename), mode 0600, directory 0700. Fields: id, team, role, roleSource, agent,
// backend, root (the backend's --root), bundle, cgroupsPath, createdBounding, apparmorProfile,
// selinuxLabel, policyDigest, created (RFC 3339). Readers ignore unknown fields.
//
// Records are removed lazily: `delete` cannot clean up after itself (the shim execs the backend
// and is gone), so each create sweeps records whose container no longer exists in its backend's
// root and that are older than a minute (a younger one may belong to a create in flight).

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace base {

struct ContainerRecord {
  std::string id;
  std::string team;
  std::string role;
  std::string role_source;
  std::string agent;
  std::string backend;
  std::string root;
  std::string bundle;
  std::string cgroups_path;
  std::vector<std::string> created_bounding;
  std::string apparmor_profile;
  std::string selinux_label;
  std::string policy_digest;
  std::string created;
};

/// True if `id` can name a file: runc's own rule (letters, digits, '_', '+', '-', '.'), no
/// leading '.', at most 1024 bytes.
bool valid_container_id(const std::string& id);

std::string record_path(const std::string& state_dir, const std::string& id);

[[nodiscard]] base::Result<void> save_record(const std::string& state_dir, const ContainerRecord& r);

/// The record of `id`, nullopt if there is none; an error if it exists but cannot be read.
[[nodiscard]] base::Result<std::optional<ContainerRecord>> load_record(const std::string& state_dir,
                                                                       const std::string& id);

/// Every record in the state dir (unreadable ones skipped).
std::vector<ContainerRecord> list_records(const std::string& state_dir);

/// Removes records whose container directory <root>/<id> is gone and whose file is older than
/// `min_age_seconds`. Returns how many were removed.
size_t sweep_records(const std::string& state_dir, long min_age_seconds);

/// sweep_records at most once per `period_seconds` across all processes (the mtime of
/// <stateDir>/.swept says when the last sweep ran), so a create does not read every record.
size_t sweep_records_now_and_then(const std::string& state_dir, long min_age_seconds, long period_seconds);

}  // namespace base
