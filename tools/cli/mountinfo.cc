#include "tools/cli/mountinfo.h"

#include "tools/cli/host_path.h"

namespace cli {

std::optional<std::string> host_path_of(const MountInfo& m, const std::vector<MountInfo>& host) {
  const MountInfo* best = nullptr;
  for (const auto& h : host) {
    if (h.dev != m.dev || !path_under(m.root, h.root)) {
      continue;
    }
    if (best == nullptr || h.root.size() > best->root.size()) {
      best = &h;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  std::string rest = best->root == "/" ? m.root : m.root.substr(best->root.size());
  if (rest == "/" || rest.empty()) {
    return best->mount_point;
  }
  return best->mount_point == "/" ? rest : best->mount_point + rest;
}

}  // namespace cli
