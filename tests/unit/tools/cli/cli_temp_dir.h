#pragma once
// A temp dir for the cove watch / fsmonitor / preview detect tests, removed with its contents.

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace cove_test {

class TempTree : public TempDir {
 public:
  TempTree() : TempDir("cove-cli-ws-test") {}

  /// Writes `rel` (making its parent directories).
  void write(const std::string& rel, const std::string& content) const {
    std::filesystem::path p = *this / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
};

}  // namespace cove_test
