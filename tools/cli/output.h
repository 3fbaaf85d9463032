#pragma once
// What every cove subcommand prints: aligned tables and finding lines for people (colour only
// when stdout is a terminal), JSON for programs. The exit codes are shared too (docs/cli.md):
// 0 ok, 1 findings or unhealthy, 2 usage or input error.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli {

using Json = nlohmann::ordered_json;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

/// Where a subcommand writes. `color` is decided once at the edge (stdout is a tty, NO_COLOR is
/// unset, TERM is not "dumb", or --color=always); nothing below looks at the terminal itself.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool color = false;
};

enum class Color { kNone, kRed, kYellow, kGreen, kCyan, kBold, kDim };

/// `text` wrapped in the ANSI sequence for `c` when colour is on, else `text` unchanged.
std::string paint(const Io& io, Color c, std::string_view text);

/// One table cell: text and an optional colour (applied after padding, so columns stay aligned).
struct Cell {
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT: rows are written as {"a", "b"}
  Cell(const char* t) : text(t) {}             // NOLINT
  Cell(std::string t, Color c) : text(std::move(t)), color(c) {}
  std::string text;
  Color color = Color::kNone;
};

/// A left-aligned text table with a bold header, columns separated by two spaces. The last
/// column is not padded (it may be long).
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(const Io& io) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<Cell>> rows_;
};

enum class Severity { kError, kWarning };

const char* severity_name(Severity s);

/// A problem found in a file: lint findings. `path` is a JSON path into the file
/// ("roles.agent.capabilities[2]"), empty for the file as a whole; `check` is a stable id.
struct Finding {
  Severity severity = Severity::kError;
  std::string file;
  std::string path;
  std::string check;
  std::string message;
};

/// {"severity","file","path","check","message"}
Json to_json(const Finding& f);

/// One line per finding, compiler style: `FILE: PATH: error: MESSAGE [check]`.
void print_findings(const Io& io, const std::vector<Finding>& findings);

/// `s` as a JSON string, null when it is empty (the JSON outputs' "none").
Json string_or_null(const std::string& s);

/// Docker's 64-hex container IDs shortened to 12 characters, as `docker ps` shows them; any
/// other ID unchanged.
std::string short_id(const std::string& id);

/// Joins with `sep`.
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");


/// "2 GiB", "512 MiB", "1.5 GiB", "1000 B": binary units, at most one decimal.
std::string format_bytes(int64_t bytes);

/// A list for a sentence: "none" when empty, else the items joined with ", ".
std::string list_or_none(const std::vector<std::string>& items);

/// Writes `items` joined with ", " as lines of at most `width` characters, each starting with
/// `indent` (the first line too).
void print_wrapped(const Io& io, const std::vector<std::string>& items, const std::string& indent, size_t width = 100);

}  // namespace cli
