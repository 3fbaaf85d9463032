// cove: the command line for people and orchestrators (docs/cli.md). Everything is in cove_cli.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  const char* term = std::getenv("TERM");
  bool color = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr &&
               (term == nullptr || std::strcmp(term, "dumb") != 0);
  int rc = cli::run(argc, argv, std::cout, std::cerr, color);
  std::cout.flush();
  return rc;
}
