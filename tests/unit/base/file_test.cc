#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/cove-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d != nullptr ? d : "";
}

TEST(File, AtomicWriteReplacesContentAndKeepsMode) {
  std::string dir = temp_dir();
  std::string path = dir + "/config.json";
  ASSERT_TRUE(base::write_file_atomic(path, "old"));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(base::write_file_atomic(path, "new bytes"));
  auto text = base::read_file(path);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "new bytes");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::system(("rm -rf " + dir).c_str());
}

TEST(File, AtomicWriteIntoMissingDirectoryFailsWithPath) {
  auto r = base::write_file_atomic("/nonexistent-cove-dir/config.json", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_NE(r.error().message().find("/nonexistent-cove-dir/config.json"), std::string::npos);
}

TEST(File, ReadMissingFileNamesIt) {
  auto r = base::read_file("/nonexistent-cove-file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_NE(r.error().message().find("/nonexistent-cove-file"), std::string::npos);
}

TEST(File, AppendLineAddsNewlineAndAppends) {
  std::string dir = temp_dir();
  std::string path = dir + "/audit.jsonl";
  ASSERT_TRUE(base::append_line(path, "{\"a\":1}"));
  ASSERT_TRUE(base::append_line(path, "{\"a\":2}"));
  EXPECT_EQ(*base::read_file(path), "{\"a\":1}\n{\"a\":2}\n");
  std::system(("rm -rf " + dir).c_str());
}

TEST(File, AppendToFullDiskReportsENOSPC) {
  // /dev/full answers every write with ENOSPC: the error must say so, not pretend success.
  auto r = base::append_line("/dev/full", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOSPC);
}

TEST(File, MakeDirsCreatesParents) {
  std::string dir = temp_dir();
  ASSERT_TRUE(base::make_dirs(dir + "/a/b/c"));
  struct stat st {};
  EXPECT_EQ(::stat((dir + "/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
