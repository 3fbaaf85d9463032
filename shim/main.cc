// cove-runtime: an OCI runtime that polices containers by role, then executes runc, crun or
// sysbox-runc. See shim/shim.h.
#include <string>
#include <vector>

#include "shim/shim.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return shim::run(args);
}
