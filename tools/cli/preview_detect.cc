#include "tools/cli/preview_detect.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace cli {

namespace {

using base::Error;
using base::Fd;
using base::Result;

constexpr size_t kMaxFileBytes = 1 << 20;

// ---- reading DIR without leaving it ------------------------------------------------------------

/// Opens `rel` beneath `dir_fd` for reading: symlinks may not lead out of the directory, and
/// only regular files are returned (O_NONBLOCK: a FIFO planted in the workspace cannot block).
Result<Fd> open_beneath(int dir_fd, const std::string& rel) {
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    // Linux < 5.6: walk the components refusing every symlink.
    Fd at;
    int cur = dir_fd;
    size_t start = 0;
    for (;;) {
      size_t slash = rel.find('/', start);
      std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part == "..") {
        return Error::make(EXDEV, "{}: leads out of the directory", rel);
      }
      if (slash == std::string::npos) {
        fd = ::openat(cur, part.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
        break;
      }
      Fd next(::openat(cur, part.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (!next.valid()) {
        return Error::sys("{}", rel);
      }
      at = std::move(next);
      cur = at.get();
      start = slash + 1;
    }
  }
  if (fd < 0) {
    return Error::sys("{}", rel);
  }
  Fd file(static_cast<int>(fd));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return Error::sys("{}: stat", rel);
  }
  if (!S_ISREG(st.st_mode)) {
    return Error::make(EINVAL, "{}: not a regular file", rel);
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    return Error::make(EFBIG, "{}: larger than {} bytes, not read", rel, kMaxFileBytes);
  }
  return file;
}

/// The workspace as the rules see it: files read on demand, once, with their failures kept.
class Tree {
 public:
  explicit Tree(int dir_fd) : dir_fd_(dir_fd) {}

  /// The content of `rel`, nullopt when it is absent or refused (refusals become warnings).
  const std::optional<std::string>& file(const std::string& rel) {
    auto it = files_.find(rel);
    if (it != files_.end()) {
      return it->second;
    }
    std::optional<std::string> content;
    auto fd = open_beneath(dir_fd_, rel);
    if (fd) {
      std::string data;
      char buf[65536];
      for (;;) {
        ssize_t n = ::read(fd->get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0) {
          warnings_.push_back(fmt::format("{}: {}", rel, std::strerror(errno)));
          data.clear();
          break;
        }
        if (n == 0) {
          content = std::move(data);
          break;
        }
        data.append(buf, static_cast<size_t>(n));
        if (data.size() > kMaxFileBytes) {
          warnings_.push_back(fmt::format("{}: larger than {} bytes, not read", rel, kMaxFileBytes));
          break;
        }
      }
    } else if (fd.error().code() != ENOENT && fd.error().code() != ENOTDIR) {
      warnings_.push_back(fd.error().code() == EXDEV || fd.error().code() == ELOOP
                              ? fmt::format("{}: a symlink leading out of the directory, not followed", rel)
                              : fd.error().message());
    }
    return files_.emplace(rel, std::move(content)).first->second;
  }

  /// package.json, parsed (null when absent or not JSON).
  const Json& package_json() {
    if (!package_parsed_) {
      package_parsed_ = true;
      const auto& text = file("package.json");
      if (text) {
        package_ = Json::parse(*text, nullptr, false);
        if (package_.is_discarded() || !package_.is_object()) {
          warnings_.push_back("package.json: not a JSON object, ignored");
          package_ = nullptr;
        }
      }
    }
    return package_;
  }

  bool npm_dep(const std::string& name) {
    const Json& p = package_json();
    for (const char* key : {"dependencies", "devDependencies", "peerDependencies"}) {
      if (p.is_object() && p.contains(key) && p[key].is_object() && p[key].contains(name)) {
        return true;
      }
    }
    return false;
  }

  std::optional<std::string> npm_script(const std::string& name) {
    const Json& p = package_json();
    if (p.is_object() && p.contains("scripts") && p["scripts"].is_object() && p["scripts"].contains(name) &&
        p["scripts"][name].is_string()) {
      return p["scripts"][name].get<std::string>();
    }
    return std::nullopt;
  }

  /// A Python requirement named in requirements*.txt, pyproject.toml, Pipfile or setup.cfg (a
  /// whole word, case-insensitive: "fastapi[all]>=0.100" names fastapi).
  bool py_dep(const std::string& name) {
    for (const char* f : {"requirements.txt", "requirements-dev.txt", "requirements/base.txt", "pyproject.toml",
                          "Pipfile", "setup.cfg", "setup.py"}) {
      const auto& text = file(f);
      if (text && contains_word(*text, name)) {
        return true;
      }
    }
    return false;
  }

  std::vector<std::string>& warnings() { return warnings_; }

  static bool contains_word(const std::string& text, const std::string& word) {
    std::string lower(text.size(), '\0');
    std::transform(text.begin(), text.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto ident = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    };
    for (size_t at = lower.find(word); at != std::string::npos; at = lower.find(word, at + 1)) {
      bool left = at == 0 || !ident(lower[at - 1]);
      bool right = at + word.size() >= lower.size() || !ident(lower[at + word.size()]);
      if (left && right) {
        return true;
      }
    }
    return false;
  }

 private:
  int dir_fd_;
  std::map<std::string, std::optional<std::string>> files_;
  bool package_parsed_ = false;
  Json package_ = nullptr;
  std::vector<std::string> warnings_;
};

// ---- the rules ---------------------------------------------------------------------------------

struct Evidence {
  enum Kind { kFile, kNpmDep, kPyDep, kFileContains, kNpmScript } kind;
  std::string what;    // path, package or script name
  std::string needle;  // kFileContains
};

/// A rule matches when every group has at least one piece of evidence present.
struct Rule {
  const char* type;
  const char* framework;
  const char* language;
  const char* group;  // only the first match of a group is reported (vite-react is also "node")
  int port;
  std::vector<std::vector<Evidence>> all_of;
};

Evidence file(std::string p) { return {Evidence::kFile, std::move(p), {}}; }
Evidence npm(std::string p) { return {Evidence::kNpmDep, std::move(p), {}}; }
Evidence script(std::string p) { return {Evidence::kNpmScript, std::move(p), {}}; }
Evidence py(std::string p) { return {Evidence::kPyDep, std::move(p), {}}; }
Evidence has(std::string p, std::string needle) { return {Evidence::kFileContains, std::move(p), std::move(needle)}; }

const std::vector<Evidence> kViteEvidence = {npm("vite"),          file("vite.config.ts"), file("vite.config.js"),
                                             file("vite.config.mjs"), file("vite.config.mts"), file("vite.config.cjs")};

/// The table, in order of precedence.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {"nextjs", "next", "node", "node", 3000,
       {{npm("next"), file("next.config.js"), file("next.config.mjs"), file("next.config.ts")}}},
      {"vite-react", "vite", "node", "node", 5173,
       {kViteEvidence, {npm("react"), npm("@vitejs/plugin-react"), npm("@vitejs/plugin-react-swc")}}},
      {"vite-vue", "vite", "node", "node", 5173, {kViteEvidence, {npm("vue"), npm("@vitejs/plugin-vue")}}},
      {"vite-svelte", "vite", "node", "node", 5173,
       {kViteEvidence, {npm("svelte"), npm("@sveltejs/vite-plugin-svelte"), npm("@sveltejs/kit")}}},
      {"vite", "vite", "node", "node", 5173, {kViteEvidence}},
      {"node", "node", "node", "node", 3000, {{script("dev"), script("start")}}},
      {"django", "django", "python", "python", 8000,
       {{file("manage.py")}, {has("manage.py", "django"), py("django")}}},
      {"fastapi", "fastapi", "python", "python", 8000,
       {{py("fastapi"), py("uvicorn"), has("main.py", "FastAPI("), has("app.py", "FastAPI("),
         has("app/main.py", "FastAPI(")}}},
      {"flask", "flask", "python", "python", 5000,
       {{py("flask"), has("app.py", "Flask("), has("wsgi.py", "Flask("), has("main.py", "Flask(")}}},
      {"static", "static", "html", "static", 8080, {{file("index.html")}}},
  };
  return kRules;
}

std::string describe(const Evidence& e) {
  switch (e.kind) {
    case Evidence::kFile:
      return e.what;
    case Evidence::kNpmDep:
      return "package.json depends on " + e.what;
    case Evidence::kNpmScript:
      return "package.json script " + e.what;
    case Evidence::kPyDep:
      return "Python requirement " + e.what;
    case Evidence::kFileContains:
      return fmt::format("{} mentions {}", e.what, e.needle);
  }
  return e.what;
}

bool present(Tree& t, const Evidence& e) {
  switch (e.kind) {
    case Evidence::kFile:
      return t.file(e.what).has_value();
    case Evidence::kNpmDep:
      return t.npm_dep(e.what);
    case Evidence::kNpmScript:
      return t.npm_script(e.what).has_value();
    case Evidence::kPyDep:
      return t.py_dep(e.what);
    case Evidence::kFileContains: {
      const auto& text = t.file(e.what);
      return text && text->find(e.needle) != std::string::npos;
    }
  }
  return false;
}

/// The package manager the lock file names.
std::string npm_runner(Tree& t) {
  if (t.file("pnpm-lock.yaml")) {
    return "pnpm";
  }
  if (t.file("yarn.lock")) {
    return "yarn";
  }
  return "npm";
}

/// "main:app" for a module that assigns `<name> = FastAPI(` (or Flask().
std::string python_app(Tree& t, const std::string& ctor, std::string* module_only) {
  for (const char* f : {"main.py", "app.py", "app/main.py", "src/main.py", "wsgi.py", "server.py"}) {
    const auto& text = t.file(f);
    if (!text) {
      continue;
    }
    size_t at = text->find(ctor + "(");
    if (at == std::string::npos) {
      continue;
    }
    // The identifier before "= FastAPI(" on the same line.
    size_t line = text->rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    std::string head = text->substr(line, at - line);
    size_t eq = head.find('=');
    std::string var = "app";
    if (eq != std::string::npos) {
      std::string name = head.substr(0, eq);
      name.erase(std::remove_if(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
                 name.end());
      size_t colon = name.find(':');  // "app: FastAPI = FastAPI("
      if (colon != std::string::npos) {
        name = name.substr(0, colon);
      }
      bool ident = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '_';
      });
      if (ident) {
        var = name;
      }
    }
    std::string module = f;
    module = module.substr(0, module.size() - 3);
    std::replace(module.begin(), module.end(), '/', '.');
    if (module_only != nullptr) {
      *module_only = module;
    }
    return module + ":" + var;
  }
  if (module_only != nullptr) {
    *module_only = "app";
  }
  return "main:app";
}

void fill_command(Tree& t, const Rule& r, PreviewMatch& m) {
  m.port = r.port;
  m.port_source = "default";
  std::string fw = r.framework;
  if (r.language == std::string("node")) {
    std::string runner = npm_runner(t);
    std::optional<std::string> dev = t.npm_script("dev");
    std::optional<std::string> start = t.npm_script("start");
    const std::optional<std::string>& used = dev ? dev : start;
    if (dev) {
      m.command = runner + " run dev";
    } else if (fw == "node") {
      m.command = runner == "npm" ? "npm start" : runner + " start";
    } else if (fw == "next") {
      m.command = "npx next dev";
    } else {
      m.command = "npx vite";
    }
    if ((dev || (fw == "node" && start)) && used) {
      if (auto p = port_in_script(*used)) {
        m.port = *p;
        m.port_source = "script";
      }
    }
  } else if (fw == "django") {
    m.command = "python3 manage.py runserver 0.0.0.0:8000";
  } else if (fw == "fastapi") {
    m.command = "uvicorn " + python_app(t, "FastAPI", nullptr) + " --host 0.0.0.0 --port 8000 --reload";
  } else if (fw == "flask") {
    std::string module;
    python_app(t, "Flask", &module);
    m.command = "flask --app " + module + " run --host 0.0.0.0 --port 5000 --debug";
  } else {
    m.command = "python3 -m http.server 8080";
  }
}

}  // namespace

std::optional<int> port_in_script(const std::string& s) {
  auto number_at = [&](size_t i) -> std::optional<int> {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) != 0 && j - i < 6) {
      ++j;
    }
    if (j == i || (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j])) != 0)) {
      return std::nullopt;
    }
    int v = std::stoi(s.substr(i, j - i));
    return v > 0 && v < 65536 ? std::optional<int>(v) : std::nullopt;
  };
  for (const char* flag : {"--port=", "--port ", "-p ", "PORT="}) {
    for (size_t at = s.find(flag); at != std::string::npos; at = s.find(flag, at + 1)) {
      if (at > 0 && std::string(flag) != "PORT=" && s[at - 1] != ' ') {
        continue;
      }
      if (std::string(flag) == "PORT=" && at > 0 && s[at - 1] != ' ') {
        continue;
      }
      size_t i = at + std::strlen(flag);
      while (i < s.size() && s[i] == ' ') {
        ++i;
      }
      if (auto p = number_at(i)) {
        return p;
      }
    }
  }
  return std::nullopt;
}

Result<PreviewDetection> detect_preview(int dir_fd) {
  Tree tree(dir_fd);
  PreviewDetection d;
  std::set<std::string> groups;
  for (const Rule& r : rules()) {
    if (groups.count(r.group) != 0) {
      continue;
    }
    std::vector<std::string> evidence;
    bool all = true;
    for (const auto& any : r.all_of) {
      bool one = false;
      for (const auto& e : any) {
        if (present(tree, e)) {
          evidence.push_back(describe(e));
          one = true;
        }
      }
      if (!one) {
        all = false;
        break;
      }
    }
    if (!all) {
      continue;
    }
    groups.insert(r.group);
    PreviewMatch m;
    m.type = r.type;
    m.framework = r.framework;
    m.language = r.language;
    m.evidence = std::move(evidence);
    fill_command(tree, r, m);
    d.matches.push_back(std::move(m));
  }
  d.warnings = std::move(tree.warnings());
  std::sort(d.warnings.begin(), d.warnings.end());
  d.warnings.erase(std::unique(d.warnings.begin(), d.warnings.end()), d.warnings.end());
  return d;
}

CLI::App* add_preview_detect(CLI::App& preview, PreviewDetectOptions& o) {
  CLI::App* c = preview.add_subcommand("detect", "The project type of a workspace and its dev-server command");
  c->add_option("dir", o.dir, "the workspace directory")->required();
  c->add_flag("--json", o.json, "JSON output");
  return c;
}

int preview_detect(const PreviewDetectOptions& o, const Io& io) {
  Fd dir(::open(o.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    io.err << "cove preview detect: " << o.dir << ": " << std::strerror(errno) << '\n';
    return kExitUsage;
  }
  auto d = detect_preview(dir.get());
  if (!d) {
    io.err << "cove preview detect: " << d.error().message() << '\n';
    return kExitUsage;
  }
  if (o.json) {
    Json j = Json::object();
    j["dir"] = o.dir;
    j["detected"] = !d->matches.empty();
    auto match_json = [](const PreviewMatch& m) {
      Json x = Json::object();
      x["type"] = m.type;
      x["framework"] = m.framework;
      x["language"] = m.language;
      x["command"] = m.command;
      x["port"] = m.port;
      x["portSource"] = m.port_source;
      x["evidence"] = m.evidence;
      return x;
    };
    if (d->matches.empty()) {
      j["type"] = nullptr;
      j["command"] = nullptr;
      j["port"] = nullptr;
    } else {
      const PreviewMatch& m = d->matches.front();
      j["type"] = m.type;
      j["framework"] = m.framework;
      j["language"] = m.language;
      j["command"] = m.command;
      j["port"] = m.port;
      j["portSource"] = m.port_source;
      j["evidence"] = m.evidence;
    }
    j["ambiguous"] = d->matches.size() > 1;
    Json all = Json::array();
    for (const auto& m : d->matches) {
      all.push_back(match_json(m));
    }
    j["matches"] = all;
    j["warnings"] = d->warnings;
    io.out << j.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
  } else if (d->matches.empty()) {
    io.out << o.dir << ": no known project type (looked for Next.js, Vite, npm scripts dev/start, Django, FastAPI, "
                       "Flask, index.html)\n";
  } else {
    const PreviewMatch& m = d->matches.front();
    io.out << paint(io, Color::kBold, m.type) << "  " << m.command << "  port " << m.port
           << (m.port_source == "script" ? " (from the npm script)" : "") << '\n';
    io.out << "  evidence: " << join(m.evidence, "; ") << '\n';
    for (size_t i = 1; i < d->matches.size(); ++i) {
      io.out << "  also: " << d->matches[i].type << " (" << join(d->matches[i].evidence, "; ") << "): "
             << d->matches[i].command << ", port " << d->matches[i].port << '\n';
    }
  }
  for (const auto& w : d->warnings) {
    io.err << "cove preview detect: warning: " << w << '\n';
  }
  return d->matches.empty() ? kExitFindings : kExitOk;
}

}  // namespace cli
