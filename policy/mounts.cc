// Mounts: bind sources checked against deny and allow lists, read-only forcing, the role's
// tmpfs mounts, the team workspace, masked and read-only paths, and the read-only rootfs.
#include <algorithm>
#include <set>

#include "base/path.h"
#include "policy/apply.h"

namespace policy {

namespace {

// True if `path` equals `prefix` or lies below it ("/a/b" is under "/a", "/ab" is not).
using base::path_under;

bool is_bind(const Json& m) {
  if (m.value("type", "") == "bind") {
    return true;
  }
  if (auto o = m.find("options"); o != m.end() && o->is_array()) {
    for (const auto& opt : *o) {
      if (opt == "bind" || opt == "rbind") {
        return true;
      }
    }
  }
  return false;
}

// Filesystems a container may mount without a host source: what Docker, containerd and runc's
// default spec use. Anything else (ext4 from a block device, nfs, overlay) is refused.
const std::set<std::string>& pseudo_filesystems() {
  static const std::set<std::string> k = {"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "shm"};
  return k;
}

Json options_with(const Json& options, bool read_only) {
  Json out = Json::array();
  if (options.is_array()) {
    for (const auto& o : options) {
      if (o != "rw" && o != "ro") {
        out.push_back(o);
      }
    }
  }
  out.push_back(read_only ? "ro" : "rw");
  return out;
}

bool has_option(const Json& m, const char* opt) {
  auto o = m.find("options");
  return o != m.end() && o->is_array() && std::find(o->begin(), o->end(), opt) != o->end();
}

}  // namespace

void apply_mounts(const ApplyContext& ctx, Json& spec, Decision& d) {
  const Role& role = ctx.role;
  std::string prefix = "roles." + role.name;
  if (!spec.contains("mounts") || !spec["mounts"].is_array()) {
    spec["mounts"] = Json::array();
  }
  Json& mounts = spec["mounts"];

  std::string ws_source;
  if (role.workspace && !ctx.id.team.empty()) {
    ws_source = workspace_source(ctx.policy, ctx.id.team);
  }

  // Deny entries are compared both as written and resolved (/var/run is a symlink to /run).
  std::vector<std::string> deny;
  for (const auto& p : role.mounts.deny) {
    deny.push_back(p);
    std::string c = ctx.host.canonical(p);
    if (c != p) {
      deny.push_back(c);
    }
  }

  for (size_t i = 0; i < mounts.size(); ++i) {
    Json& m = mounts[i];
    std::string where = "mounts[" + std::to_string(i) + "]";
    std::string dest = m.value("destination", "");
    if (!is_bind(m)) {
      std::string type = m.value("type", "");
      if (!pseudo_filesystems().count(type)) {
        d.refuse(prefix + ".mounts", where + ".type",
                 "mount of filesystem type \"" + type + "\" at " + dest +
                     " is refused: only bind mounts from allowed host paths and proc, sysfs, tmpfs, devpts, "
                     "mqueue, cgroup may be mounted (rule " + prefix + ".mounts)");
      }
      continue;
    }
    std::string source = m.value("source", "");
    if (!ws_source.empty() && source == ws_source && dest == role.workspace->destination) {
      continue;  // the workspace mount cove itself adds
    }
    std::string real = ctx.host.canonical(source);
    bool refused = false;
    for (const auto& den : deny) {
      // Denied if the source is the denied path or a directory that contains it.
      if (path_under(real, den) || path_under(den, real) || path_under(source, den) || path_under(den, source)) {
        d.refuse(prefix + ".mounts.deny", where + ".source",
                 "mount of " + source + (real != source ? " (" + real + ")" : "") + " at " + dest +
                     " is refused: it is or contains " + den + " (rule " + prefix + ".mounts.deny)");
        refused = true;
        break;
      }
    }
    if (refused) {
      continue;
    }
    bool allowed = std::any_of(role.mounts.allow.begin(), role.mounts.allow.end(),
                               [&](const std::string& a) { return path_under(real, a); });
    if (!allowed) {
      d.refuse(prefix + ".mounts.allow", where + ".source",
               "bind mount of " + source + (real != source ? " (" + real + ")" : "") + " at " + dest +
                   " is refused: the source is not under any path of " + prefix + ".mounts.allow");
      continue;
    }
    bool force_ro = std::any_of(role.mounts.read_only.begin(), role.mounts.read_only.end(),
                                [&](const std::string& a) { return path_under(real, a); });
    if (force_ro && !has_option(m, "ro")) {
      Json opts = options_with(m.contains("options") ? m["options"] : Json(), true);
      d.change(where + ".options", m.contains("options") ? m["options"] : Json(), opts, prefix + ".mounts.readOnly");
      m["options"] = std::move(opts);
    }
  }

  // The role's tmpfs mounts replace whatever else sits at their destination.
  for (const auto& t : role.tmpfs) {
    Json want = {{"destination", t.destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", t.options}};
    auto it = std::find_if(mounts.begin(), mounts.end(),
                           [&](const Json& m) { return m.value("destination", "") == t.destination; });
    if (it != mounts.end() && it->value("type", "") == "tmpfs") {
      continue;
    }
    if (it != mounts.end()) {
      d.change("mounts[" + t.destination + "]", *it, want, prefix + ".tmpfs");
      mounts.erase(it);
    } else {
      d.change("mounts[" + t.destination + "]", nullptr, want, prefix + ".tmpfs");
    }
    mounts.push_back(std::move(want));
  }

  // The team workspace: the team's covefs mountpoint, bound at the role's destination.
  if (!ws_source.empty()) {
    const Workspace& ws = *role.workspace;
    if (!ctx.host.is_mountpoint(ws_source)) {
      d.refuse(prefix + ".workspace", "mounts",
               "team " + ctx.id.team + "'s workspace is not mounted at " + ws_source +
                   "; mount it first: cove ws mount " + ctx.id.team + " (or covefs --team " + ctx.id.team +
                   " --source <workspace dir> --mountpoint " + ws_source + ")");
    } else {
      Json want = {{"destination", ws.destination},
                   {"type", "bind"},
                   {"source", ws_source},
                   {"options", Json::array({"rbind", "nosuid", "nodev", ws.read_only ? "ro" : "rw"})}};
      bool present = false;
      for (auto it = mounts.begin(); it != mounts.end();) {
        if (it->value("destination", "") != ws.destination) {
          ++it;
        } else if (*it == want && !present) {
          present = true;
          ++it;
        } else {
          d.change("mounts[" + ws.destination + "]", *it, nullptr, prefix + ".workspace");
          it = mounts.erase(it);
        }
      }
      if (!present) {
        d.change("mounts[" + ws.destination + "]", nullptr, want, prefix + ".workspace");
        mounts.push_back(std::move(want));
      }
    }
  }

  Json& linux = spec["linux"];
  for (auto [key, paths] : {std::pair<const char*, const std::vector<std::string>*>{"maskedPaths", &role.masked_paths},
                            {"readonlyPaths", &role.readonly_paths}}) {
    if (paths->empty()) {
      continue;
    }
    Json& list = linux[key];
    if (!list.is_array()) {
      list = Json::array();
    }
    Json before = list;
    for (const auto& p : *paths) {
      if (std::find(list.begin(), list.end(), p) == list.end()) {
        list.push_back(p);
      }
    }
    if (list != before) {
      d.change(std::string("linux.") + key, before, list, prefix + "." + key);
    }
  }

  if (role.readonly_rootfs) {
    Json& root = spec["root"];
    if (!root.is_object()) {
      root = Json::object();
    }
    if (!root.value("readonly", false)) {
      d.change("root.readonly", root.contains("readonly") ? root["readonly"] : Json(), true,
               prefix + ".readonlyRootfs");
      root["readonly"] = true;
    }
  }
}

}  // namespace policy
