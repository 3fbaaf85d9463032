#include "tools/cli/audit_live.h"

#include <sys/capability.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "policy/apply.h"
#include "tools/cli/host_path.h"
#include "tools/cli/mount_probe.h"

namespace cli {

namespace {

std::string cap_name(int bit) {
  char* n = cap_to_name(static_cast<cap_value_t>(bit));
  if (n == nullptr) {
    return "cap " + std::to_string(bit);
  }
  std::string s(n);
  cap_free(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

uint64_t cap_mask(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (const auto& n : names) {
    cap_value_t v = 0;
    if (cap_from_name(n.c_str(), &v) == 0 && v >= 0 && v < 64) {
      mask |= uint64_t{1} << v;
    }
  }
  return mask;
}

std::string cap_list(uint64_t bits) {
  std::vector<std::string> out;
  for (int b = 0; b < 64; ++b) {
    if (bits & (uint64_t{1} << b)) {
      out.push_back(cap_name(b));
    }
  }
  return join(out);
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string show(const LimitValue& v, bool bytes) {
  if (!v.present) {
    return "not readable";
  }
  if (!v.value) {
    return "unlimited";
  }
  return bytes ? fmt::format("{} ({})", *v.value, format_bytes(*v.value)) : std::to_string(*v.value);
}

class Attestation {
 public:
  Attestation(const policy::Policy& p, const policy::Role& r, const base::ContainerRecord& rec, const ContainerFacts& f,
              const std::vector<MountInfo>& host)
      : p_(p),
        r_(r),
        rec_(rec),
        f_(f),
        host_(host),
        prefix_("roles." + r.name),
        status_("/proc/" + std::to_string(f.pid) + "/status") {}

  std::vector<Drift> run() {
    process();
    cgroups();
    mounts();
    namespaces();
    return std::move(drift_);
  }

 private:
  const policy::Policy& p_;
  const policy::Role& r_;
  const base::ContainerRecord& rec_;
  const ContainerFacts& f_;
  const std::vector<MountInfo>& host_;
  std::string prefix_;
  std::string status_;
  std::vector<Drift> drift_;

  void add(std::string field, std::string rule, std::string expected, std::string actual, std::string source) {
    drift_.push_back(
        Drift{std::move(field), std::move(rule), std::move(expected), std::move(actual), std::move(source)});
  }

  void process() {
    const ProcStatus& s = f_.status;
    // Every role has a seccomp baseline: the filter must be on.
    if (!s.seccomp || *s.seccomp != 2) {
      add("Seccomp", prefix_ + ".seccomp", "2 (filter)",
          s.seccomp ? std::to_string(*s.seccomp) + (*s.seccomp == 0 ? " (no filter)" : " (strict)") : "not reported",
          status_);
    }
    if (r_.no_new_privileges && (!s.no_new_privs || *s.no_new_privs != 1)) {
      add("NoNewPrivs", prefix_ + ".noNewPrivileges", "1",
          s.no_new_privs ? std::to_string(*s.no_new_privs) : "not reported", status_);
    }
    uint64_t allowed = cap_mask(r_.capabilities);
    for (const char* set : {"CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"}) {
      auto it = s.caps.find(set);
      if (it == s.caps.end()) {
        if (std::string_view(set) == "CapBnd" || std::string_view(set) == "CapEff") {
          add(set, prefix_ + ".capabilities", "reported", "not reported", status_);
        }
        continue;
      }
      uint64_t extra = it->second & ~allowed;
      if (extra != 0) {
        add(set, prefix_ + ".capabilities",
            r_.capabilities.empty() ? "no capabilities" : "at most " + join(r_.capabilities),
            fmt::format("{:016x}, beyond the role: {}", it->second, cap_list(extra)), status_);
      }
    }
    if (r_.user && f_.identity_uid_map) {
      auto check_ids = [&](const char* field, const std::vector<uint32_t>& ids, uint32_t want, const char* key) {
        bool ok = !ids.empty() && std::all_of(ids.begin(), ids.end(), [&](uint32_t v) { return v == want; });
        if (!ok) {
          std::vector<std::string> shown;
          shown.reserve(ids.size());
          for (uint32_t v : ids) {
            shown.push_back(std::to_string(v));
          }
          add(field, prefix_ + ".user." + key, std::to_string(want) + " (real, effective, saved, fs)",
              shown.empty() ? "not reported" : join(shown, " "), status_);
        }
      };
      check_ids("Uid", s.uids, r_.user->uid, "uid");
      check_ids("Gid", s.gids, r_.user->gid, "gid");
      std::vector<std::string> extra;
      for (uint32_t g : s.groups) {
        bool ok = g == r_.user->gid ||
                  std::find(r_.additional_gids.begin(), r_.additional_gids.end(), g) != r_.additional_gids.end();
        if (!ok) {
          extra.push_back(std::to_string(g));
        }
      }
      if (!extra.empty()) {
        add("Groups", prefix_ + ".additionalGids",
            r_.additional_gids.empty() ? "no supplementary groups" : "only groups the role lists",
            "also " + join(extra), status_);
      }
    }
  }

  void limit(const LimitValue& v, int64_t max, const std::string& rule, bool bytes, const std::string& fallback_field,
             const std::string& label = "") {
    std::string field = !label.empty() ? label : v.file.empty() ? fallback_field : base_name(v.file);
    std::string expected = "<= " + (bytes ? fmt::format("{} ({})", max, format_bytes(max)) : std::to_string(max));
    if (!v.present || !v.value || *v.value > max) {
      add(field, rule, expected, show(v, bytes), v.file.empty() ? "no cgroup hierarchy found" : v.file);
    }
  }

  void cgroups() {
    const CgroupLimits& c = f_.cgroup;
    if (r_.memory_limit) {
      limit(c.memory_limit, *r_.memory_limit, prefix_ + ".memory.limit", true, "memory limit");
      // Swap is bounded only where the kernel accounts it (the file exists); there the shim set
      // memory+swap to the limit.
      if (c.memory_swap.present) {
        // v1 reports memory+swap in one file; v2 reports swap alone (cgroup_limits.cc adds
        // memory.max to it), so the field is named as the sum.
        limit(c.memory_swap, *r_.memory_limit, prefix_ + ".memory.limit", true, "memory+swap limit",
              base_name(c.memory_swap.file) == "memory.swap.max" ? "memory.max+memory.swap.max" : "");
      }
      if (c.oom_kill_disable.present && c.oom_kill_disable.value && *c.oom_kill_disable.value == 1) {
        add("memory.oom_control", prefix_ + ".memory.limit", "oom_kill_disable 0", "oom_kill_disable 1",
            c.oom_kill_disable.file);
      }
    }
    if (r_.memory_reservation && c.memory_reservation.present) {
      int64_t want = r_.memory_limit ? std::min(*r_.memory_reservation, *r_.memory_limit) : *r_.memory_reservation;
      limit(c.memory_reservation, want, prefix_ + ".memory.reservation", true, "memory reservation");
    }
    if (r_.pids) {
      limit(c.pids, *r_.pids, prefix_ + ".pids", false, "pids limit");
    }
    if (r_.cpu) {
      std::string field = c.cpu_quota.file.empty() ? "cpu quota" : base_name(c.cpu_quota.file);
      std::string expected = fmt::format("at most {} CPU (quota/period)", r_.cpu->cpus);
      if (!c.cpu_quota.present || !c.cpu_period.present || !c.cpu_period.value || *c.cpu_period.value <= 0) {
        add(field, prefix_ + ".cpu", expected, "not readable",
            c.cpu_quota.file.empty() ? "no cgroup hierarchy found" : c.cpu_quota.file);
      } else if (!c.cpu_quota.value) {
        add(field, prefix_ + ".cpu", expected, "unlimited", c.cpu_quota.file);
      } else {
        double cpus = static_cast<double>(*c.cpu_quota.value) / static_cast<double>(*c.cpu_period.value);
        if (cpus > r_.cpu->cpus + 1e-6) {
          add(field, prefix_ + ".cpu", expected,
              fmt::format("{} CPU (quota {} / period {})", cpus, *c.cpu_quota.value, *c.cpu_period.value),
              c.cpu_quota.file);
        }
      }
    }
  }

  void mounts() {
    std::string mountinfo = "/proc/" + std::to_string(f_.pid) + "/mountinfo";
    if (r_.readonly_rootfs) {
      const MountInfo* root = mount_at_path(f_.mounts, "/");
      if (root == nullptr || !root->read_only()) {
        add("mount /", prefix_ + ".readonlyRootfs", "ro", root == nullptr ? "not found" : "rw", mountinfo);
      }
    }
    const MountInfo* ws = nullptr;
    if (r_.workspace && !rec_.team.empty()) {
      const std::string& dest = r_.workspace->destination;
      ws = mount_at_path(f_.mounts, dest);
      std::string rule = prefix_ + ".workspace";
      if (ws == nullptr) {
        add("mount " + dest, rule, "team " + rec_.team + "'s workspace", "nothing mounted", mountinfo);
      } else {
        if (r_.workspace->read_only && !ws->read_only()) {
          add("mount " + dest, rule + ".mode", "ro", "rw", mountinfo);
        }
        std::string want = policy::workspace_source(p_, rec_.team);
        auto from = host_path_of(*ws, host_);
        if (from && *from != want) {
          add("mount " + dest, rule, "source " + want, "source " + *from, mountinfo);
        }
      }
    }
    // Bind mounts from the host: map each mount back to a host path by device and root (a
    // container's own proc, tmpfs and devpts have devices of their own and map to nothing).
    // cgroup, sysfs and mqueue share the host's superblock by design and are not binds.
    std::vector<std::string> deny;
    for (const auto& d : r_.mounts.deny) {
      deny.push_back(normalize_host_path(d));
    }
    for (const auto& m : f_.mounts) {
      if (&m == ws || m.mount_point == "/" || m.fstype == "cgroup" || m.fstype == "cgroup2" || m.fstype == "sysfs" ||
          m.fstype == "mqueue" || m.fstype == "devpts") {
        continue;
      }
      auto from = host_path_of(m, host_);
      if (!from) {
        continue;
      }
      std::string hp = normalize_host_path(*from);
      auto denied = std::find_if(deny.begin(), deny.end(),
                                 [&](const std::string& d) { return path_under(hp, d) || path_under(d, hp); });
      if (denied != deny.end()) {
        add("mount " + m.mount_point, prefix_ + ".mounts.deny", "nothing from " + *denied, "bind of " + *from,
            mountinfo);
        continue;
      }
      bool allowed = std::any_of(r_.mounts.allow.begin(), r_.mounts.allow.end(),
                                 [&](const std::string& a) { return path_under(hp, normalize_host_path(a)); });
      if (!allowed) {
        add("mount " + m.mount_point, prefix_ + ".mounts.allow",
            r_.mounts.allow.empty() ? "no bind mounts" : "bind sources under " + join(r_.mounts.allow),
            "bind of " + *from, mountinfo);
      } else if (!m.read_only()) {
        for (const auto& ro : r_.mounts.read_only) {
          if (path_under(hp, normalize_host_path(ro))) {
            add("mount " + m.mount_point, prefix_ + ".mounts.readOnly", "ro", "rw (bind of " + *from + ")", mountinfo);
            break;
          }
        }
      }
    }
  }

  void namespaces() {
    const std::pair<const char*, bool> ns[] = {
        {"net", r_.host_namespaces.network}, {"pid", r_.host_namespaces.pid}, {"ipc", r_.host_namespaces.ipc}};
    for (const auto& [name, may_share] : ns) {
      auto it = f_.shares_host_ns.find(name);
      if (!may_share && it != f_.shares_host_ns.end() && it->second) {
        std::string key = std::string(name) == "net" ? "network" : name;
        add(std::string("ns/") + name, prefix_ + ".hostNamespaces." + key, "the container's own", "the host's",
            "/proc/" + std::to_string(f_.pid) + "/ns/" + name);
      }
    }
  }
};

struct Report {
  base::ContainerRecord rec;
  RuntimeState state;
  bool attested = false;
  std::string note;
  std::vector<Drift> drift;
};

}  // namespace

std::string describe(const Drift& d) {
  return fmt::format("{} is {}, expected {} (rule {}; read from {})", d.field, d.actual, d.expected, d.rule, d.source);
}

std::vector<Drift> attest(const policy::Policy& p, const policy::Role& role, const base::ContainerRecord& rec,
                          const ContainerFacts& facts, const std::vector<MountInfo>& host_mounts) {
  return Attestation(p, role, rec, facts, host_mounts).run();
}

CLI::App* add_audit_live(CLI::App& audit, AuditLiveOptions& o) {
  CLI::App* c = audit.add_subcommand("live", "Attest every running container cove created against its role");
  c->add_option("--policy", o.policy, "the policy the roles come from")->default_str(policy::kDefaultPolicyPath);
  c->add_option("--state-dir", o.state_dir, "cove-runtime's state dir (default: the policy's stateDir)");
  c->add_option("--root", o.root, "the runtime's root (default: the root in each record, else /run/runc)");
  c->add_option("--proc", o.proc, "where /proc is mounted")->default_str("/proc");
  c->add_flag("--json", o.json, "print the report as JSON");
  return c;
}

int audit_live(const AuditLiveOptions& o, const Io& io) {
  std::string policy_path = o.policy.empty() ? policy::kDefaultPolicyPath : o.policy;
  auto p = policy::load_policy(policy_path);
  if (!p) {
    io.err << "cove audit live: " << p.error().message() << '\n';
    return kExitUsage;
  }
  std::string state_dir = o.state_dir.empty() ? p->state_dir : o.state_dir;
  struct stat st {};
  if (::stat(state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    io.err << "cove audit live: state dir " << state_dir << " does not exist (is cove-runtime using policy "
           << policy_path << "? name the directory with --state-dir)\n";
    return kExitUsage;
  }
  ProcReader reader(o.proc);
  std::vector<MountInfo> host = reader.host_mounts();
  std::vector<base::ContainerRecord> records = base::list_records(state_dir);
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.id < b.id; });

  std::vector<Report> reports;
  size_t drift_total = 0;
  for (const auto& rec : records) {
    Report r;
    r.rec = rec;
    std::string root = !o.root.empty() ? o.root : !rec.root.empty() ? rec.root : "/run/runc";
    r.state = reader.runtime_state(root, rec.id);
    if (r.state.state != RunState::kRunning) {
      r.note = r.state.state == RunState::kCreated ? "created, not started: nothing to attest yet" : "not running";
      reports.push_back(std::move(r));
      continue;
    }
    if (rec.role.empty()) {
      r.note = "passed through without a role (unmatched.action passthrough)";
      reports.push_back(std::move(r));
      continue;
    }
    const policy::Role* role = p->find_role(rec.role);
    if (role == nullptr) {
      r.drift.push_back(Drift{"role", "roles", "a role of the policy",
                              "\"" + rec.role + "\", which the policy no longer has", policy_path});
    } else {
      auto facts = reader.read(r.state.pid, host);
      if (!facts) {
        // The process may have exited between the state check and the read.
        if (reader.runtime_state(root, rec.id).state != RunState::kRunning) {
          r.note = "stopped while being read";
          reports.push_back(std::move(r));
          continue;
        }
        r.drift.push_back(Drift{"process", "roles." + rec.role, "readable", facts.error().message(),
                                o.proc + "/" + std::to_string(r.state.pid)});
      } else {
        r.attested = true;
        r.drift = attest(*p, *role, rec, *facts, host);
      }
    }
    if (!rec.policy_digest.empty() && rec.policy_digest != p->digest) {
      r.note = "created under another version of the policy (" + rec.policy_digest.substr(0, 19) + "...)";
    }
    drift_total += r.drift.size();
    reports.push_back(std::move(r));
  }

  if (o.json) {
    Json j;
    j["policy"] = policy_path;
    j["stateDir"] = state_dir;
    j["drift"] = drift_total;
    j["containers"] = Json::array();
    for (const auto& r : reports) {
      Json c{{"id", r.rec.id},
             {"role", r.rec.role},
             {"team", r.rec.team},
             {"agent", r.rec.agent},
             {"state", run_state_name(r.state.state)},
             {"pid", r.state.pid > 0 ? Json(r.state.pid) : Json()},
             {"attested", r.attested},
             {"note", string_or_null(r.note)},
             {"drift", Json::array()}};
      for (const auto& d : r.drift) {
        c["drift"].push_back(Json{{"field", d.field},
                                  {"rule", d.rule},
                                  {"expected", d.expected},
                                  {"actual", d.actual},
                                  {"source", d.source},
                                  {"message", describe(d)}});
      }
      j["containers"].push_back(std::move(c));
    }
    io.out << j.dump(2) << '\n';
  } else if (reports.empty()) {
    io.out << "No container records in " << state_dir << ".\n";
  } else {
    Table t({"CONTAINER", "ROLE", "TEAM", "PID", "STATE", "RESULT"});
    for (const auto& r : reports) {
      Cell result = !r.drift.empty() ? Cell(std::to_string(r.drift.size()) + " drift", Color::kRed)
                    : r.attested     ? Cell("ok", Color::kGreen)
                                     : Cell("-", Color::kDim);
      t.add({short_id(r.rec.id), r.rec.role.empty() ? "-" : r.rec.role, r.rec.team.empty() ? "-" : r.rec.team,
             r.state.pid > 0 ? std::to_string(r.state.pid) : "-", run_state_name(r.state.state), result});
    }
    t.print(io);
    for (const auto& r : reports) {
      for (const auto& d : r.drift) {
        io.out << paint(io, Color::kBold, short_id(r.rec.id)) << ": " << paint(io, Color::kRed, "drift") << ": "
               << describe(d) << '\n';
      }
      if (!r.note.empty()) {
        io.out << paint(io, Color::kDim, short_id(r.rec.id) + ": " + r.note) << '\n';
      }
    }
    size_t running = std::count_if(reports.begin(), reports.end(), [](const Report& r) { return r.attested; });
    io.out << fmt::format("{} container{} attested, {} drift finding{}\n", running, running == 1 ? "" : "s",
                          drift_total, drift_total == 1 ? "" : "s");
  }
  return drift_total > 0 ? kExitFindings : kExitOk;
}

}  // namespace cli
