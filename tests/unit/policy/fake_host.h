#pragma once
// An in-memory host for policy tests: symlinks, mountpoints and host namespace paths are
// whatever the test says.

#include <map>
#include <set>
#include <string>

#include "policy/host.h"

namespace testing_support {

class FakeHost : public policy::HostFacts {
 public:
  std::map<std::string, std::string> links;  // path prefix -> resolved prefix
  std::set<std::string> mountpoints;
  std::set<std::string> host_ns_paths;
  bool swap = true;

  std::string canonical(const std::string& path) const override {
    for (const auto& [from, to] : links) {
      if (path == from || path.rfind(from + "/", 0) == 0) {
        return to + path.substr(from.size());
      }
    }
    return path;
  }
  bool is_mountpoint(const std::string& path) const override { return mountpoints.count(path) != 0; }
  bool is_host_namespace(const std::string&, const std::string& path) const override {
    return host_ns_paths.count(path) != 0;
  }
  bool swap_accounting() const override { return swap; }
};

}  // namespace testing_support
