#include "tools/cli/host_path.h"

namespace cli {

bool path_under(const std::string& path, const std::string& prefix) {
  if (prefix == "/") {
    return true;
  }
  return path == prefix ||
         (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 && path[prefix.size()] == '/');
}

std::string normalize_host_path(const std::string& p) {
  if (p == "/var/run") {
    return "/run";
  }
  if (p.rfind("/var/run/", 0) == 0) {
    return "/run" + p.substr(8);
  }
  return p;
}

}  // namespace cli
