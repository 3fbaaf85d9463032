#include "tools/cli/policy_diff.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "policy/policy.h"
#include "tools/cli/policy_explain.h"

namespace cli {

namespace {

class Differ {
 public:
  std::vector<PolicyChange> changes;

  void add(Effect e, const std::string& role, const std::string& field, Json from, Json to, std::string summary) {
    changes.push_back(PolicyChange{e, role, field, std::move(from), std::move(to), std::move(summary)});
  }

  // A list whose added entries have effect `on_add` and removed ones the opposite.
  void list(const std::string& role, const std::string& field, const Json& a, const Json& b, Effect on_add) {
    std::vector<std::string> added;
    std::vector<std::string> removed;
    auto as_set = [](const Json& j) {
      std::set<std::string> s;
      if (j.is_array()) {
        for (const auto& v : j) {
          s.insert(v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
      return s;
    };
    auto sa = as_set(a);
    auto sb = as_set(b);
    std::set_difference(sb.begin(), sb.end(), sa.begin(), sa.end(), std::back_inserter(added));
    std::set_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(removed));
    Effect on_remove = on_add == Effect::kLoosens    ? Effect::kTightens
                       : on_add == Effect::kTightens ? Effect::kLoosens
                                                     : Effect::kOther;
    if (!added.empty()) {
      add(on_add, role, field, Json(), Json(added), "+ " + join(added));
    }
    if (!removed.empty()) {
      add(on_remove, role, field, Json(removed), Json(), "- " + join(removed));
    }
  }

  // A limit where null means "none": raising or removing loosens.
  void limit(const std::string& role, const std::string& field, const Json& a, const Json& b,
             const std::function<std::string(const Json&)>& show) {
    if (a == b) {
      return;
    }
    auto text = [&](const Json& v) { return v.is_null() ? std::string("none") : show(v); };
    std::string s = text(a) + " -> " + text(b);
    Effect e;
    if (a.is_null()) {
      e = Effect::kTightens;
    } else if (b.is_null()) {
      e = Effect::kLoosens;
    } else {
      e = b.get<double>() > a.get<double>() ? Effect::kLoosens : Effect::kTightens;
    }
    add(e, role, field, a, b, s);
  }

  // A flag where `safe` is the protective value.
  void flag(const std::string& role, const std::string& field, const Json& a, const Json& b, bool safe) {
    if (a == b) {
      return;
    }
    Effect e = b.get<bool>() == safe ? Effect::kTightens : Effect::kLoosens;
    add(e, role, field, a, b, fmt::format("{} -> {}", a.dump(), b.dump()));
  }

  void neutral(const std::string& role, const std::string& field, const Json& a, const Json& b) {
    if (a == b) {
      return;
    }
    auto text = [](const Json& v) {
      return v.is_null() ? std::string("none") : v.is_string() ? v.get<std::string>() : v.dump();
    };
    add(Effect::kOther, role, field, a, b, text(a) + " -> " + text(b));
  }

  void role(const std::string& name, const Json& a, const Json& b) {
    neutral(name, "backend", a["backend"], b["backend"]);

    const Json& ua = a["user"];
    const Json& ub = b["user"];
    if (ua != ub) {
      auto text = [](const Json& u) {
        return u.is_null() ? std::string("not set")
                           : fmt::format("{}:{}", u["uid"].get<uint32_t>(), u["gid"].get<uint32_t>());
      };
      Effect e = Effect::kOther;
      if (ub.is_null() || (ub["uid"] == 0 && (ua.is_null() || ua["uid"] != 0))) {
        e = Effect::kLoosens;
      } else if (ua.is_null() || ua["uid"] == 0) {
        e = Effect::kTightens;
      }
      add(e, name, "user", ua, ub, text(ua) + " -> " + text(ub));
    }
    list(name, "additionalGids", a["additionalGids"], b["additionalGids"], Effect::kLoosens);
    flag(name, "noNewPrivileges", a["noNewPrivileges"], b["noNewPrivileges"], true);
    list(name, "capabilities", a["capabilities"]["kept"], b["capabilities"]["kept"], Effect::kLoosens);
    seccomp(name, a["seccomp"], b["seccomp"]);

    const Json& la = a["limits"];
    const Json& lb = b["limits"];
    auto bytes = [](const Json& v) { return format_bytes(v.get<int64_t>()); };
    limit(name, "limits.memory.limit", la["memory"]["limit"], lb["memory"]["limit"], bytes);
    limit(name, "limits.memory.reservation", la["memory"]["reservation"], lb["memory"]["reservation"], bytes);
    Json ca = la["cpu"].is_null() ? Json() : la["cpu"]["cpus"];
    Json cb = lb["cpu"].is_null() ? Json() : lb["cpu"]["cpus"];
    limit(name, "limits.cpu.cpus", ca, cb, [](const Json& v) { return fmt::format("{}", v.get<double>()); });
    if (!la["cpu"].is_null() && !lb["cpu"].is_null()) {
      neutral(name, "limits.cpu.period", la["cpu"]["period"], lb["cpu"]["period"]);
    }
    limit(name, "limits.pids", la["pids"], lb["pids"], [](const Json& v) { return std::to_string(v.get<int64_t>()); });
    rlimits(name, la["rlimits"], lb["rlimits"]);

    const Json& fa = a["filesystem"];
    const Json& fb = b["filesystem"];
    flag(name, "filesystem.readonlyRootfs", fa["readonlyRootfs"], fb["readonlyRootfs"], true);
    tmpfs(name, fa["tmpfs"], fb["tmpfs"]);
    list(name, "filesystem.maskedPaths", fa["maskedPaths"], fb["maskedPaths"], Effect::kTightens);
    list(name, "filesystem.readonlyPaths", fa["readonlyPaths"], fb["readonlyPaths"], Effect::kTightens);

    list(name, "mounts.allow", a["mounts"]["allow"], b["mounts"]["allow"], Effect::kLoosens);
    list(name, "mounts.deny", a["mounts"]["deny"], b["mounts"]["deny"], Effect::kTightens);
    list(name, "mounts.readOnly", a["mounts"]["readOnly"], b["mounts"]["readOnly"], Effect::kTightens);

    workspace(name, a["workspace"], b["workspace"]);
    for (const char* ns : {"network", "pid", "ipc"}) {
      flag(name, std::string("hostNamespaces.") + ns, a["hostNamespaces"][ns], b["hostNamespaces"][ns], false);
    }
  }

  void seccomp(const std::string& name, const Json& a, const Json& b) {
    auto access = [](const Json& s) {
      std::map<std::string, std::string> m;
      for (const auto& n : s["allowed"]) {
        m[n.get<std::string>()] = "allowed";
      }
      for (const auto& c : s["conditional"]) {
        m[c["name"].get<std::string>()] = "conditional:" + c["conditions"].dump();
      }
      return m;
    };
    auto ma = access(a);
    auto mb = access(b);
    std::vector<std::string> looser;
    std::vector<std::string> stricter;
    std::vector<std::string> other;
    std::set<std::string> names;
    for (const auto& [k, v] : ma) {
      names.insert(k);
    }
    for (const auto& [k, v] : mb) {
      names.insert(k);
    }
    auto rank = [](const std::string& v) { return v.empty() ? 0 : v == "allowed" ? 2 : 1; };
    for (const auto& n : names) {
      std::string va = ma.count(n) ? ma[n] : "";
      std::string vb = mb.count(n) ? mb[n] : "";
      if (va == vb) {
        continue;
      }
      if (rank(vb) > rank(va)) {
        looser.push_back(n);
      } else if (rank(vb) < rank(va)) {
        stricter.push_back(n);
      } else {
        other.push_back(n);
      }
    }
    if (!looser.empty()) {
      add(Effect::kLoosens, name, "seccomp", Json(), Json(looser), "newly allowed: " + join(looser));
    }
    if (!stricter.empty()) {
      add(Effect::kTightens, name, "seccomp", Json(stricter), Json(), "newly denied: " + join(stricter));
    }
    if (!other.empty()) {
      add(Effect::kOther, name, "seccomp", Json(), Json(other), "argument conditions changed: " + join(other));
    }
    if (a["defaultAction"] != b["defaultAction"]) {
      neutral(name, "seccomp.defaultAction", a["defaultActionText"], b["defaultActionText"]);
    }
  }

  void rlimits(const std::string& name, const Json& a, const Json& b) {
    auto by_type = [](const Json& l) {
      std::map<std::string, Json> m;
      for (const auto& e : l) {
        m[e["type"].get<std::string>()] = e;
      }
      return m;
    };
    auto ma = by_type(a);
    auto mb = by_type(b);
    std::set<std::string> types;
    for (const auto& [k, v] : ma) {
      types.insert(k);
    }
    for (const auto& [k, v] : mb) {
      types.insert(k);
    }
    for (const auto& t : types) {
      for (const char* key : {"soft", "hard"}) {
        Json va = ma.count(t) ? ma[t][key] : Json();
        Json vb = mb.count(t) ? mb[t][key] : Json();
        limit(name, "limits.rlimits." + t + "." + key, va, vb,
              [](const Json& v) { return std::to_string(v.get<uint64_t>()); });
      }
    }
  }

  void tmpfs(const std::string& name, const Json& a, const Json& b) {
    auto by_dest = [](const Json& l) {
      std::map<std::string, Json> m;
      for (const auto& e : l) {
        m[e["destination"].get<std::string>()] = e["options"];
      }
      return m;
    };
    auto ma = by_dest(a);
    auto mb = by_dest(b);
    std::set<std::string> dests;
    for (const auto& [k, v] : ma) {
      dests.insert(k);
    }
    for (const auto& [k, v] : mb) {
      dests.insert(k);
    }
    for (const auto& d : dests) {
      Json va = ma.count(d) ? ma[d] : Json();
      Json vb = mb.count(d) ? mb[d] : Json();
      if (va != vb) {
        auto text = [](const Json& v) {
          if (v.is_null()) {
            return std::string("none");
          }
          std::vector<std::string> o;
          for (const auto& s : v) {
            o.push_back(s.get<std::string>());
          }
          return "(" + join(o, ",") + ")";
        };
        add(Effect::kOther, name, "filesystem.tmpfs." + d, va, vb, text(va) + " -> " + text(vb));
      }
    }
  }

  void workspace(const std::string& name, const Json& a, const Json& b) {
    if (a.is_null() && b.is_null()) {
      return;
    }
    if (a.is_null()) {
      add(Effect::kLoosens, name, "workspace", a, b,
          "gains the team workspace at " + b["destination"].get<std::string>() + " (" + b["mode"].get<std::string>() +
              ")");
      return;
    }
    if (b.is_null()) {
      add(Effect::kTightens, name, "workspace", a, b, "no longer gets the team workspace");
      return;
    }
    if (a["mode"] != b["mode"]) {
      add(b["mode"] == "rw" ? Effect::kLoosens : Effect::kTightens, name, "workspace.mode", a["mode"], b["mode"],
          a["mode"].get<std::string>() + " -> " + b["mode"].get<std::string>());
    }
    neutral(name, "workspace.destination", a["destination"], b["destination"]);
    list(name, "workspace.protected", a["protected"], b["protected"], Effect::kTightens);
    list(name, "workspace.hidden", a["hidden"], b["hidden"], Effect::kTightens);
  }
};

int unmatched_rank(const std::string& action) { return action == "refuse" ? 0 : action == "role" ? 1 : 2; }

}  // namespace

const char* effect_name(Effect e) {
  switch (e) {
    case Effect::kLoosens:
      return "loosens";
    case Effect::kTightens:
      return "tightens";
    case Effect::kOther:
      return "other";
  }
  return "other";
}

std::vector<PolicyChange> diff_policies(const Json& a, const Json& b) {
  Differ d;
  // Policy-wide settings.
  const Json& ua = a["unmatched"];
  const Json& ub = b["unmatched"];
  if (ua != ub) {
    int ra = unmatched_rank(ua["action"].get<std::string>());
    int rb = unmatched_rank(ub["action"].get<std::string>());
    Effect e = rb > ra ? Effect::kLoosens : rb < ra ? Effect::kTightens : Effect::kOther;
    auto text = [](const Json& u) {
      return u["action"].get<std::string>() + (u["role"].is_null() ? "" : " " + u["role"].get<std::string>());
    };
    d.add(e, "", "unmatched", ua, ub, text(ua) + " -> " + text(ub));
  }
  if (a["auditLog"] != b["auditLog"]) {
    Effect e = b["auditLog"].is_null()   ? Effect::kLoosens
               : a["auditLog"].is_null() ? Effect::kTightens
                                         : Effect::kOther;
    auto text = [](const Json& v) { return v.is_null() ? std::string("none") : v.get<std::string>(); };
    d.add(e, "", "auditLog", a["auditLog"], b["auditLog"], text(a["auditLog"]) + " -> " + text(b["auditLog"]));
  }
  for (const char* key : {"stateDir", "workspaceRoot", "defaultBackend"}) {
    d.neutral("", key, a[key], b[key]);
  }

  std::map<std::string, const Json*> ra;
  std::map<std::string, const Json*> rb;
  for (const auto& r : a["roles"]) {
    ra[r["name"].get<std::string>()] = &r;
  }
  for (const auto& r : b["roles"]) {
    rb[r["name"].get<std::string>()] = &r;
  }
  for (const auto& [name, r] : rb) {
    if (!ra.count(name)) {
      d.add(Effect::kLoosens, name, "role", Json(), Json(name),
            "role added: containers naming it, refused before, now run (review it with cove policy explain)");
    }
  }
  for (const auto& [name, r] : ra) {
    if (!rb.count(name)) {
      d.add(Effect::kTightens, name, "role", Json(name), Json(), "role removed: containers naming it are refused");
    } else {
      d.role(name, *r, *rb[name]);
    }
  }
  std::stable_sort(d.changes.begin(), d.changes.end(), [](const PolicyChange& x, const PolicyChange& y) {
    if (x.effect != y.effect) {
      return static_cast<int>(x.effect) < static_cast<int>(y.effect);
    }
    return x.role < y.role;
  });
  return d.changes;
}

CLI::App* add_policy_diff(CLI::App& policy, PolicyDiffOptions& o) {
  CLI::App* c = policy.add_subcommand("diff", "What a policy change does to each role, loosening changes first");
  c->add_option("OLD", o.old_file, "the policy before")->required();
  c->add_option("NEW", o.new_file, "the policy after")->required();
  c->add_flag("--json", o.json, "print the changes as JSON");
  return c;
}

int policy_diff(const PolicyDiffOptions& o, const Io& io) {
  auto a = policy::load_policy(o.old_file);
  if (!a) {
    io.err << "cove policy diff: " << a.error().message() << '\n';
    return kExitUsage;
  }
  auto b = policy::load_policy(o.new_file);
  if (!b) {
    io.err << "cove policy diff: " << b.error().message() << '\n';
    return kExitUsage;
  }
  auto changes = diff_policies(explain_policy(*a, std::nullopt), explain_policy(*b, std::nullopt));
  size_t counts[3] = {0, 0, 0};
  for (const auto& c : changes) {
    counts[static_cast<int>(c.effect)]++;
  }
  if (o.json) {
    Json j;
    j["old"] = Json{{"file", a->path}, {"digest", a->digest}};
    j["new"] = Json{{"file", b->path}, {"digest", b->digest}};
    j["loosens"] = counts[0];
    j["tightens"] = counts[1];
    j["other"] = counts[2];
    j["changes"] = Json::array();
    for (const auto& c : changes) {
      j["changes"].push_back(Json{{"effect", effect_name(c.effect)},
                                  {"role", string_or_null(c.role)},
                                  {"field", c.field},
                                  {"from", c.from},
                                  {"to", c.to},
                                  {"summary", c.summary}});
    }
    io.out << j.dump(2) << '\n';
  } else if (changes.empty()) {
    io.out << "No change in effect between " << o.old_file << " and " << o.new_file << ".\n";
  } else {
    Table t({"EFFECT", "ROLE", "FIELD", "CHANGE"});
    for (const auto& c : changes) {
      Color col = c.effect == Effect::kLoosens    ? Color::kRed
                  : c.effect == Effect::kTightens ? Color::kGreen
                                                  : Color::kNone;
      t.add({Cell(effect_name(c.effect), col), c.role.empty() ? "(policy)" : c.role, c.field, c.summary});
    }
    t.print(io);
    io.out << fmt::format("\n{} -> {}: {} loosening, {} tightening, {} other\n", o.old_file, o.new_file, counts[0],
                          counts[1], counts[2]);
  }
  return counts[0] > 0 ? kExitFindings : kExitOk;
}

}  // namespace cli
