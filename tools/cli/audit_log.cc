#include "tools/cli/audit_log.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "base/time.h"
#include "policy/policy.h"

namespace cli {

namespace {

using base::Error;
using base::Result;
using Json = nlohmann::ordered_json;

bool digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) {
    return false;
  }
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

int num(const std::string& s, size_t pos, size_t n) { return std::stoi(s.substr(pos, n)); }

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<double> parse_rfc3339(const std::string& t) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (!digits(t, 0, 4) || t.size() < 20 || t[4] != '-' || !digits(t, 5, 2) || t[7] != '-' || !digits(t, 8, 2) ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(t, 11, 2) || t[13] != ':' || !digits(t, 14, 2) ||
      t[16] != ':' || !digits(t, 17, 2)) {
    return Error::make(EINVAL, "\"{}\" is not an RFC 3339 time (e.g. 2026-11-24T06:17:00Z)", t);
  }
  struct tm tm {};
  tm.tm_year = num(t, 0, 4) - 1900;
  tm.tm_mon = num(t, 5, 2) - 1;
  tm.tm_mday = num(t, 8, 2);
  tm.tm_hour = num(t, 11, 2);
  tm.tm_min = num(t, 14, 2);
  tm.tm_sec = num(t, 17, 2);
  size_t i = 19;
  double frac = 0;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      ++i;
    }
    if (i == start) {
      return Error::make(EINVAL, "\"{}\": empty fraction of a second", t);
    }
    frac = std::stod("0." + t.substr(start, i - start));
  }
  long offset = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z') && i + 1 == t.size()) {
    offset = 0;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && digits(t, i + 1, 2) && t[i + 3] == ':' &&
             digits(t, i + 4, 2)) {
    offset = (num(t, i + 1, 2) * 60L + num(t, i + 4, 2)) * 60L * (t[i] == '-' ? -1 : 1);
  } else {
    return Error::make(EINVAL, "\"{}\": expected Z or an offset like +02:00 after the seconds", t);
  }
  time_t secs = timegm(&tm);
  return static_cast<double>(secs - offset) + frac;
}

Result<double> parse_since(const std::string& text, double now) {
  if (text.empty()) {
    return Error::make(EINVAL, "--since: empty");
  }
  // A duration: digits and one unit.
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  if (i > 0 && i + 1 == text.size()) {
    double n = std::stod(text.substr(0, i));
    switch (text[i]) {
      case 's':
        return now - n;
      case 'm':
        return now - n * 60;
      case 'h':
        return now - n * 3600;
      case 'd':
        return now - n * 86400;
      default:
        break;
    }
  }
  if (text.size() == 10 && digits(text, 0, 4) && text[4] == '-' && digits(text, 5, 2) && text[7] == '-' &&
      digits(text, 8, 2)) {
    return parse_rfc3339(text + "T00:00:00Z");
  }
  auto t = parse_rfc3339(text);
  if (!t) {
    return Error::make(EINVAL,
                       "--since \"{}\": expected a duration (90s, 15m, 2h, 7d), a date (2026-11-24) or an "
                       "RFC 3339 time (2026-11-24T06:17:00Z)",
                       text);
  }
  return t;
}

bool audit_matches(const Json& r, const AuditQuery& q) {
  if (q.refused_only && str(r, "decision") != "refuse") {
    return false;
  }
  if (!q.role.empty() && str(r, "role") != q.role) {
    return false;
  }
  if (!q.container.empty() && str(r, "container").rfind(q.container, 0) != 0) {
    return false;
  }
  if (q.since) {
    auto t = parse_rfc3339(str(r, "time"));
    if (!t || *t < *q.since) {
      return false;
    }
  }
  return true;
}

CLI::App* add_audit_log(CLI::App& audit, AuditLogOptions& o) {
  CLI::App* c = audit.add_subcommand("log", "Query cove-runtime's decision log");
  c->add_option("--file", o.file, "the audit log (default: the auditLog of --policy)");
  c->add_option("--policy", o.policy, "policy whose auditLog to read")->default_str(policy::kDefaultPolicyPath);
  c->add_option("--since", o.since, "only records at or after: 15m, 2h, 7d, 2026-11-24 or 2026-11-24T06:17:00Z");
  c->add_option("--container", o.container, "only this container (ID or ID prefix)");
  c->add_option("--role", o.role, "only this role");
  c->add_flag("--refused", o.refused, "only refusals");
  c->add_flag("--json", o.json, "print the matching records as JSON lines, as logged");
  return c;
}

int audit_log(const AuditLogOptions& o, const Io& io) {
  AuditQuery q;
  q.container = o.container;
  q.role = o.role;
  q.refused_only = o.refused;
  if (!o.since.empty()) {
    auto s = parse_since(o.since, base::now_unix());
    if (!s) {
      io.err << "cove audit log: " << s.error().message() << '\n';
      return kExitUsage;
    }
    q.since = *s;
  }
  std::string file = o.file;
  if (file.empty()) {
    std::string policy_path = o.policy.empty() ? policy::kDefaultPolicyPath : o.policy;
    auto p = policy::load_policy(policy_path);
    if (!p) {
      io.err << "cove audit log: " << p.error().message() << " (or name the log with --file)\n";
      return kExitUsage;
    }
    if (p->audit_log.empty()) {
      io.err << "cove audit log: policy " << policy_path << " has no auditLog (name the log with --file)\n";
      return kExitUsage;
    }
    file = p->audit_log;
  }
  std::ifstream in(file);
  if (!in) {
    io.err << "cove audit log: cannot read " << file << ": " << std::strerror(errno) << '\n';
    return kExitUsage;
  }

  Table table({"TIME", "VERB", "CONTAINER", "ROLE", "TEAM", "DECISION", "DETAIL"});
  size_t matched = 0;
  size_t refused = 0;
  size_t malformed = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    Json r = Json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) {
      ++malformed;
      continue;
    }
    if (!audit_matches(r, q)) {
      continue;
    }
    ++matched;
    bool refuse = str(r, "decision") == "refuse";
    refused += refuse ? 1 : 0;
    if (o.json) {
      io.out << line << '\n';
      continue;
    }
    std::string detail;
    if (refuse) {
      auto rf = r.find("refusals");
      if (rf != r.end() && rf->is_array() && !rf->empty() && (*rf)[0].is_object()) {
        detail = str((*rf)[0], "message");
        if (rf->size() > 1) {
          detail += fmt::format(" (+{} more)", rf->size() - 1);
        }
      }
    } else {
      auto ch = r.find("changes");
      size_t n = ch != r.end() && ch->is_array() ? ch->size() : 0;
      detail = fmt::format("{} change{} applied, backend {}", n, n == 1 ? "" : "s", str(r, "backend"));
    }
    std::string time = str(r, "time");
    if (time.size() > 19) {
      time = time.substr(0, 19) + "Z";  // the second is enough in a table; --json keeps it all
    }
    std::string container = short_id(str(r, "container"));
    table.add({time, str(r, "verb"), container, str(r, "role"), str(r, "team"),
               Cell(str(r, "decision"), refuse ? Color::kRed : Color::kGreen), detail});
  }
  if (malformed > 0) {
    io.err << "cove audit log: skipped " << malformed << (malformed == 1 ? " line" : " lines") << " of " << file
           << (malformed == 1 ? " that is not a JSON object\n" : " that are not JSON objects\n");
  }
  if (!o.json) {
    if (!table.empty()) {
      table.print(io);
    }
    io.out << fmt::format("{} record{} matched ({} refused) in {}\n", matched, matched == 1 ? "" : "s", refused, file);
  }
  return kExitOk;
}

}  // namespace cli
