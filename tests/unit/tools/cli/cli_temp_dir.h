#pragma once
// A temp dir for the cove watch / fsmonitor / preview detect tests, removed with its contents.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cove_test {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/cove-cli-ws-test-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    path_ = d != nullptr ? d : "";
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  /// Writes `rel` (making its parent directories).
  void write(const std::string& rel, const std::string& content) const {
    std::filesystem::path p = path_ + "/" + rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }

 private:
  std::string path_;
};

}  // namespace cove_test
