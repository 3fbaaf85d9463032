#include "tools/cli/host_path.h"

namespace cli {

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
