#pragma once
// The few facts about the host that a decision needs. The policy engine is pure (spec in, spec
// out); the shim passes the real host, unit tests pass a fake.

#include <optional>
#include <string>

namespace policy {

class HostFacts {
 public:
  virtual ~HostFacts() = default;
  /// The path with symlinks resolved (as mount(2) would resolve a bind source), or the path
  /// itself when it does not exist.
  virtual std::string canonical(const std::string& path) const = 0;
  /// True if `path` is the root of a mounted filesystem (the team's covefs).
  virtual bool is_mountpoint(const std::string& path) const = 0;
  /// True if the namespace file at `path` (e.g. /proc/123/ns/net) is the host's namespace of
  /// that type (the one of PID 1 as seen from the shim).
  virtual bool is_host_namespace(const std::string& type, const std::string& path) const = 0;
  /// True if the kernel accounts swap per cgroup (v1 memory.memsw.*, v2 memory.swap.max), so
  /// that the backend can be given a swap limit without failing.
  virtual bool swap_accounting() const = 0;
};

/// The real host: realpath(3), /proc/self/mountinfo, stat of /proc/1/ns/<type>.
class RealHost : public HostFacts {
 public:
  std::string canonical(const std::string& path) const override;
  bool is_mountpoint(const std::string& path) const override;
  bool is_host_namespace(const std::string& type, const std::string& path) const override;
  bool swap_accounting() const override;
};

}  // namespace policy
