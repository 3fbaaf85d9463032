#include "tools/cli/preview_detect.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tests/unit/tools/cli/cli_temp_dir.h"

namespace {

using cove_test::TempTree;

cli::PreviewDetection detect(const TempTree& t) {
  base::Fd fd(::open(t.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto d = cli::detect_preview(fd.get());
  EXPECT_TRUE(d);
  return d ? *d : cli::PreviewDetection{};
}

std::string type_of(const TempTree& t) {
  auto d = detect(t);
  return d.matches.empty() ? "" : d.matches.front().type;
}

TEST(PreviewDetect, ViteFlavours) {
  struct Case {
    const char* deps;
    const char* type;
  } cases[] = {
      {R"("react": "^18", "vite": "^5")", "vite-react"},
      {R"("vue": "^3", "vite": "^5")", "vite-vue"},
      {R"("svelte": "^4", "@sveltejs/vite-plugin-svelte": "^3", "vite": "^5")", "vite-svelte"},
      {R"("vite": "^5")", "vite"},
  };
  for (const auto& c : cases) {
    TempTree t;
    t.write("package.json", std::string(R"({"scripts": {"dev": "vite"}, "devDependencies": {)") + c.deps + "}}");
    auto d = detect(t);
    ASSERT_FALSE(d.matches.empty()) << c.type;
    EXPECT_EQ(d.matches[0].type, c.type);
    EXPECT_EQ(d.matches[0].port, 5173);
    EXPECT_EQ(d.matches[0].command, "npm run dev");
    EXPECT_EQ(d.matches.size(), 1u) << "vite is also a node project, reported once";
  }
}

TEST(PreviewDetect, ViteConfigWithoutDependencyAndPnpm) {
  TempTree t;
  t.write("vite.config.ts", "export default {}\n");
  t.write("package.json", R"({"dependencies": {"react": "18"}})");
  t.write("pnpm-lock.yaml", "");
  auto d = detect(t);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "vite-react");
  EXPECT_EQ(d.matches[0].command, "npx vite");
}

TEST(PreviewDetect, NextJs) {
  TempTree t;
  t.write("package.json", R"({"scripts": {"dev": "next dev -p 4000"}, "dependencies": {"next": "14", "react": "18"}})");
  auto d = detect(t);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "nextjs");
  EXPECT_EQ(d.matches[0].port, 4000);
  EXPECT_EQ(d.matches[0].port_source, "script");
  TempTree plain;
  plain.write("package.json", R"({"dependencies": {"next": "14"}})");
  EXPECT_EQ(type_of(plain), "nextjs");
  EXPECT_EQ(detect(plain).matches[0].port, 3000);
  EXPECT_EQ(detect(plain).matches[0].command, "npx next dev");
}

TEST(PreviewDetect, PlainNode) {
  TempTree t;
  t.write("package.json", R"({"scripts": {"start": "PORT=4100 node server.js"}})");
  t.write("yarn.lock", "");
  auto d = detect(t);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "node");
  EXPECT_EQ(d.matches[0].command, "yarn start");
  EXPECT_EQ(d.matches[0].port, 4100);
  TempTree nodev;
  nodev.write("package.json", R"({"name": "lib", "dependencies": {"lodash": "4"}})");
  EXPECT_EQ(type_of(nodev), "");
}

TEST(PreviewDetect, Python) {
  TempTree dj;
  dj.write("manage.py", "import os\nfrom django.core.management import execute_from_command_line\n");
  EXPECT_EQ(type_of(dj), "django");
  EXPECT_EQ(detect(dj).matches[0].port, 8000);
  EXPECT_EQ(detect(dj).matches[0].command, "python3 manage.py runserver 0.0.0.0:8000");

  TempTree fa;
  fa.write("requirements.txt", "fastapi[all]>=0.100\nuvicorn\n");
  fa.write("app/main.py", "from fastapi import FastAPI\napi = FastAPI()\n");
  auto d = detect(fa);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "fastapi");
  EXPECT_EQ(d.matches[0].port, 8000);
  EXPECT_EQ(d.matches[0].command, "uvicorn app.main:api --host 0.0.0.0 --port 8000 --reload");

  TempTree fl;
  fl.write("requirements.txt", "Flask==3.0\n");
  fl.write("app.py", "from flask import Flask\napp = Flask(__name__)\n");
  d = detect(fl);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "flask");
  EXPECT_EQ(d.matches[0].port, 5000);
  EXPECT_EQ(d.matches[0].command, "flask --app app run --host 0.0.0.0 --port 5000 --debug");

  TempTree ext;  // flask-sqlalchemy alone is not flask
  ext.write("requirements.txt", "flask-sqlalchemy\n");
  EXPECT_EQ(type_of(ext), "");
}

TEST(PreviewDetect, Static) {
  TempTree t;
  t.write("index.html", "<html></html>");
  auto d = detect(t);
  ASSERT_FALSE(d.matches.empty());
  EXPECT_EQ(d.matches[0].type, "static");
  EXPECT_EQ(d.matches[0].port, 8080);
  EXPECT_EQ(d.matches[0].command, "python3 -m http.server 8080");
}

TEST(PreviewDetect, AmbiguousReportsEveryGroupFirstWins) {
  TempTree t;
  t.write("manage.py", "from django.core.management import x\n");
  t.write("package.json", R"({"scripts": {"dev": "vite"}, "devDependencies": {"vite": "5", "vue": "3"}})");
  t.write("index.html", "<html></html>");
  auto d = detect(t);
  ASSERT_EQ(d.matches.size(), 3u);
  EXPECT_EQ(d.matches[0].type, "vite-vue");
  EXPECT_EQ(d.matches[1].type, "django");
  EXPECT_EQ(d.matches[2].type, "static");
}

TEST(PreviewDetect, EmptyDirectory) {
  TempTree t;
  auto d = detect(t);
  EXPECT_TRUE(d.matches.empty());
  EXPECT_TRUE(d.warnings.empty());
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  EXPECT_EQ(cli::preview_detect({t.path(), true}, io), 1);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["detected"], false);
  EXPECT_TRUE(j["type"].is_null());
}

TEST(PreviewDetect, SymlinkOutOfTheDirectoryIsRefused) {
  TempTree outside;
  outside.write("package.json", R"({"dependencies": {"next": "14"}})");
  outside.write("index.html", "<html></html>");
  TempTree t;
  std::filesystem::create_symlink(outside / "package.json", t / "package.json");
  std::filesystem::create_directory_symlink(outside.path(), t / "sub");
  std::filesystem::create_symlink("../" + std::filesystem::path(outside.path()).filename().string() + "/index.html",
                                  t / "index.html");
  auto d = detect(t);
  EXPECT_TRUE(d.matches.empty()) << d.matches.front().type;
  EXPECT_FALSE(d.warnings.empty());
  // A symlink that stays inside is followed.
  TempTree in;
  in.write("site/index.html", "<html></html>");
  std::filesystem::create_symlink("site/index.html", in / "index.html");
  EXPECT_EQ(type_of(in), "static");
}

TEST(PreviewDetect, OversizedAndSpecialFilesAreNotRead) {
  TempTree t;
  t.write("package.json", std::string(2 << 20, ' '));
  ASSERT_EQ(::mkfifo((t / "index.html").c_str(), 0644), 0);
  auto d = detect(t);  // must not block on the FIFO
  EXPECT_TRUE(d.matches.empty());
  EXPECT_GE(d.warnings.size(), 2u);
}

TEST(PreviewDetect, PortInScript) {
  EXPECT_EQ(cli::port_in_script("vite --port 4000"), 4000);
  EXPECT_EQ(cli::port_in_script("vite --port=4001 --host"), 4001);
  EXPECT_EQ(cli::port_in_script("next dev -p 3001"), 3001);
  EXPECT_EQ(cli::port_in_script("PORT=8081 node s.js"), 8081);
  EXPECT_EQ(cli::port_in_script("node s.js"), std::nullopt);
  EXPECT_EQ(cli::port_in_script("vite --port 99999"), std::nullopt);
  EXPECT_EQ(cli::port_in_script("EXPORT=5 x"), std::nullopt);
}

}  // namespace
