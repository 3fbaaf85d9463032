#include "tools/cli/output.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace cli {

namespace {

const char* ansi(Color c) {
  switch (c) {
    case Color::kRed:
      return "\033[31m";
    case Color::kYellow:
      return "\033[33m";
    case Color::kGreen:
      return "\033[32m";
    case Color::kCyan:
      return "\033[36m";
    case Color::kBold:
      return "\033[1m";
    case Color::kDim:
      return "\033[2m";
    case Color::kNone:
      return "";
  }
  return "";
}

}  // namespace

std::string paint(const Io& io, Color c, std::string_view text) {
  if (!io.color || c == Color::kNone) {
    return std::string(text);
  }
  return std::string(ansi(c)) + std::string(text) + "\033[0m";
}

void Table::print(const Io& io) const {
  size_t columns = header_.size();
  std::vector<size_t> width(columns, 0);
  for (size_t i = 0; i < columns; ++i) {
    width[i] = header_[i].size();
  }
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < columns; ++i) {
      width[i] = std::max(width[i], row[i].text.size());
    }
  }
  auto line = [&](const std::vector<Cell>& cells, bool header) {
    std::string out;
    for (size_t i = 0; i < columns; ++i) {
      std::string text = i < cells.size() ? cells[i].text : "";
      bool last = i + 1 == columns;
      std::string pad = last ? "" : std::string(width[i] - std::min(width[i], text.size()) + 2, ' ');
      Color c = header ? Color::kBold : (i < cells.size() ? cells[i].color : Color::kNone);
      out += paint(io, c, text) + pad;
    }
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
    io.out << out << '\n';
  };
  std::vector<Cell> head(header_.begin(), header_.end());
  line(head, true);
  for (const auto& row : rows_) {
    line(row, false);
  }
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
  }
  return "error";
}

Json to_json(const Finding& f) {
  return Json{{"severity", severity_name(f.severity)},
              {"file", f.file},
              {"path", f.path},
              {"check", f.check},
              {"message", f.message}};
}

void print_findings(const Io& io, const std::vector<Finding>& findings) {
  for (const auto& f : findings) {
    std::string where = f.file;
    if (!f.path.empty()) {
      where += ": " + f.path;
    }
    Color c = f.severity == Severity::kError ? Color::kRed : Color::kYellow;
    io.out << paint(io, Color::kBold, where) << ": " << paint(io, c, severity_name(f.severity)) << ": " << f.message
           << ' ' << paint(io, Color::kDim, "[" + f.check + "]") << '\n';
  }
}

Json string_or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

std::string short_id(const std::string& id) {
  if (id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos) {
    return id.substr(0, 12);
  }
  return id;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += items[i];
  }
  return out;
}

std::string format_bytes(int64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (u + 1 < std::size(kUnits) && std::fabs(v) >= 1024.0) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) {
    return fmt::format("{} B", bytes);
  }
  double rounded = std::round(v * 10.0) / 10.0;
  if (rounded == std::floor(rounded)) {
    return fmt::format("{:.0f} {}", rounded, kUnits[u]);
  }
  return fmt::format("{:.1f} {}", rounded, kUnits[u]);
}

std::string list_or_none(const std::vector<std::string>& items) {
  return items.empty() ? std::string("none") : join(items);
}

void print_wrapped(const Io& io, const std::vector<std::string>& items, const std::string& indent, size_t width) {
  std::string line = indent;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string word = items[i] + (i + 1 < items.size() ? "," : "");
    if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
      io.out << line << '\n';
      line = indent;
    }
    if (line.size() > indent.size()) {
      line += ' ';
    }
    line += word;
  }
  if (line.size() > indent.size()) {
    io.out << line << '\n';
  }
}

}  // namespace cli
