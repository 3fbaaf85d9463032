#pragma once
// The `cove` command line: CLI11 wiring of the subcommands (one file each) and the exit codes
// every subcommand shares (output.h). main.cc only hands over argv and the terminal.

#include <ostream>

namespace cli {

/// Runs `cove` with argv, writing to `out` and `err`. `color_auto` is what --color=auto means
/// (stdout is a terminal, NO_COLOR unset, TERM not "dumb"). Returns the exit code: 0 ok,
/// 1 findings, 2 usage or input error (a command line CLI11 cannot parse included).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool color_auto);

}  // namespace cli
