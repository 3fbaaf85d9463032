#pragma once
// A temporary directory for unit tests, removed with its contents when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace cove_test {

class TempDir {
 public:
  /// Creates /tmp/<prefix>-XXXXXX; path() is empty if mkdtemp failed.
  explicit TempDir(const std::string& prefix = "cove-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    const char* d = ::mkdtemp(tmpl.data());
    path_ = d != nullptr ? d : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// The path of `rel` inside the directory.
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace cove_test
