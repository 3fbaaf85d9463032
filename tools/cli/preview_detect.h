#pragma once
// cove preview detect: what kind of project a workspace holds, and how its dev server starts —
// for the preview container, which serves the agents' work with hot reload.
//
// One ordered table of rules (kPreviewRules in preview_detect.cc); each names the evidence that
// selects it (files, npm dependencies or scripts, Python requirements, a marker in a source
// file), the dev-server command and the default port. Every rule that matches is reported, the
// first one is the answer: Next.js before Vite (a Next app may use Vite for tests), Vite before a
// plain Node project, Django before FastAPI and Flask, static index.html last.
//
// Nothing from the workspace is executed. Files are read through a descriptor of DIR with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so a symlink leading out of DIR is refused
// (EXDEV; on kernels before 5.6 every symlink is refused), at most 1 MiB each; a file that
// cannot be read counts as absent and is named in `warnings`.

#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

/// One matching rule.
struct PreviewMatch {
  std::string type;       ///< "vite-react", "nextjs", "node", "django", "flask", "fastapi", "static", ...
  std::string framework;  ///< "vite", "next", "node", "django", "flask", "fastapi", "static"
  std::string language;   ///< "node", "python", "html"
  std::string command;    ///< the dev-server command, run in DIR
  int port = 0;
  std::string port_source;  ///< "default" or "script" (read from the npm script)
  std::vector<std::string> evidence;
};

struct PreviewDetection {
  std::vector<PreviewMatch> matches;  ///< in table order; the first is the answer
  std::vector<std::string> warnings;  ///< files that exist but were refused or unreadable
};

/// Detects the project in the directory open as `dir_fd` (O_PATH or O_RDONLY, O_DIRECTORY).
[[nodiscard]] base::Result<PreviewDetection> detect_preview(int dir_fd);

/// The port an npm script names (`--port 4000`, `--port=4000`, `-p 4000`, `PORT=4000`), if any.
std::optional<int> port_in_script(const std::string& script);

struct PreviewDetectOptions {
  std::string dir;
  bool json = false;
};

CLI::App* add_preview_detect(CLI::App& preview, PreviewDetectOptions& o);

/// 0 when a type was detected, 1 when none, 2 when DIR cannot be opened.
int preview_detect(const PreviewDetectOptions& o, const Io& io);

}  // namespace cli
