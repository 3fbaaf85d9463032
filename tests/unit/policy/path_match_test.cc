#include "policy/path_match.h"

#include <gtest/gtest.h>

namespace {

using policy::path_matches;

TEST(PathMatch, ProtectedGitPaths) {
  EXPECT_TRUE(path_matches(".git/hooks/**", ".git/hooks"));
  EXPECT_TRUE(path_matches(".git/hooks/**", ".git/hooks/pre-commit"));
  EXPECT_TRUE(path_matches(".git/hooks", ".git/hooks/sub/x"));
  EXPECT_FALSE(path_matches(".git/hooks/**", ".git/hooksx"));
  EXPECT_FALSE(path_matches(".git/hooks/**", ".git"));
  EXPECT_TRUE(path_matches(".git/config", ".git/config"));
  EXPECT_FALSE(path_matches(".git/config", ".git/config.lock"));
  EXPECT_FALSE(path_matches(".git/config", "src/.git/config"));
}

TEST(PathMatch, HiddenEnvFilesAtAnyDepth) {
  EXPECT_TRUE(path_matches("**/.env", ".env"));
  EXPECT_TRUE(path_matches("**/.env", "app/web/.env"));
  EXPECT_FALSE(path_matches("**/.env", "app/.envrc"));
  EXPECT_TRUE(path_matches("**/.env.*", "app/.env.local"));
  EXPECT_FALSE(path_matches("*.ts", ".hidden.ts"));  // a leading dot needs a dot in the pattern
  EXPECT_TRUE(path_matches("src/*.ts", "src/app.ts"));
  EXPECT_FALSE(path_matches("src/*.ts", "src/sub/app.js"));
}

TEST(PathMatch, RootAndEmpty) {
  EXPECT_FALSE(path_matches("**/.env", ""));
  EXPECT_FALSE(path_matches("", "a"));
}

}  // namespace
