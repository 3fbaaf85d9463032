#include "policy/policy.h"

#include <seccomp.h>
#include <sys/capability.h>

#include <cmath>
#include <set>

#include "base/file.h"
#include "base/jsonc.h"
#include "base/sha256.h"

namespace policy {

namespace {

using Json = nlohmann::ordered_json;
using base::Error;
using base::Result;

// Walks one JSON object, remembering its path for errors and which keys were read, so that
// unknown keys (typos) can be reported.
class Obj {
 public:
  Obj(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  const Json* get(const std::string& key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  Result<void> finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.count(it.key())) {
        return Error::make(EINVAL, "{}: unknown key", at(it.key()));
      }
    }
    return {};
  }

  Result<std::optional<std::string>> str(const std::string& key) {
    const Json* v = get(key);
    if (v == nullptr) {
      return std::optional<std::string>();
    }
    if (!v->is_string()) {
      return Error::make(EINVAL, "{}: expected a string, got {}", at(key), v->type_name());
    }
    return std::optional<std::string>(v->get<std::string>());
  }

  Result<std::optional<bool>> boolean(const std::string& key) {
    const Json* v = get(key);
    if (v == nullptr) {
      return std::optional<bool>();
    }
    if (!v->is_boolean()) {
      return Error::make(EINVAL, "{}: expected true or false, got {}", at(key), v->type_name());
    }
    return std::optional<bool>(v->get<bool>());
  }

  Result<std::optional<int64_t>> integer(const std::string& key, int64_t min, int64_t max) {
    const Json* v = get(key);
    if (v == nullptr) {
      return std::optional<int64_t>();
    }
    if (!v->is_number_integer()) {
      return Error::make(EINVAL, "{}: expected an integer, got {}", at(key), v->type_name());
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Error::make(EINVAL, "{}: {} is out of range", at(key), v->dump());
    }
    int64_t n = v->get<int64_t>();
    if (n < min || n > max) {
      return Error::make(EINVAL, "{}: {} is out of range [{}, {}]", at(key), n, min, max);
    }
    return std::optional<int64_t>(n);
  }

  Result<std::optional<int64_t>> size(const std::string& key) {
    const Json* v = get(key);
    if (v == nullptr) {
      return std::optional<int64_t>();
    }
    if (v->is_number_integer()) {
      int64_t n = v->get<int64_t>();
      if (n <= 0) {
        return Error::make(EINVAL, "{}: a size must be positive, got {}", at(key), n);
      }
      return std::optional<int64_t>(n);
    }
    if (!v->is_string()) {
      return Error::make(EINVAL, "{}: expected a size like \"2GiB\" or a byte count, got {}", at(key),
                         v->type_name());
    }
    auto n = parse_size(v->get<std::string>());
    if (!n) {
      return n.error().wrap("{}", at(key));
    }
    return std::optional<int64_t>(*n);
  }

  Result<std::vector<std::string>> strings(const std::string& key) {
    std::vector<std::string> out;
    const Json* v = get(key);
    if (v == nullptr) {
      return out;
    }
    if (!v->is_array()) {
      return Error::make(EINVAL, "{}: expected an array of strings, got {}", at(key), v->type_name());
    }
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        return Error::make(EINVAL, "{}[{}]: expected a string, got {}", at(key), i,
                           (*v)[i].type_name());
      }
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }

  Result<std::optional<Obj>> object(const std::string& key) {
    const Json* v = get(key);
    if (v == nullptr) {
      return std::optional<Obj>();
    }
    if (!v->is_object()) {
      return Error::make(EINVAL, "{}: expected an object, got {}", at(key), v->type_name());
    }
    return std::optional<Obj>(Obj(*v, at(key)));
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

Result<void> check_abs_path(const std::string& where, const std::string& p) {
  if (p.empty() || p[0] != '/') {
    return Error::make(EINVAL, "{}: \"{}\" must be an absolute path", where, p);
  }
  if (p.find("/../") != std::string::npos || (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0)) {
    return Error::make(EINVAL, "{}: \"{}\" must not contain '..'", where, p);
  }
  return {};
}

Result<std::vector<std::string>> abs_paths(Obj& o, const std::string& key) {
  COVE_TRY_ASSIGN(v, o.strings(key));
  for (size_t i = 0; i < v.size(); ++i) {
    COVE_TRY(check_abs_path(o.at(key) + "[" + std::to_string(i) + "]", v[i]));
    while (v[i].size() > 1 && v[i].back() == '/') {
      v[i].pop_back();
    }
  }
  return v;
}

const std::set<std::string>& known_rlimits() {
  static const std::set<std::string> k = {
      "RLIMIT_AS",     "RLIMIT_CORE",    "RLIMIT_CPU",        "RLIMIT_DATA",     "RLIMIT_FSIZE",
      "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE",   "RLIMIT_NICE",     "RLIMIT_NOFILE",
      "RLIMIT_NPROC",  "RLIMIT_RSS",     "RLIMIT_RTPRIO",     "RLIMIT_RTTIME",   "RLIMIT_SIGPENDING",
      "RLIMIT_STACK"};
  return k;
}

Result<Role> parse_role(const std::string& name, Obj& o) {
  Role r;
  r.name = name;
  COVE_TRY_ASSIGN(backend, o.str("backend"));
  if (!backend) {
    return Error::make(EINVAL, "{}: missing (absolute path of runc, crun or sysbox-runc)", o.at("backend"));
  }
  COVE_TRY(check_abs_path(o.at("backend"), *backend));
  r.backend = *backend;

  COVE_TRY_ASSIGN(user, o.object("user"));
  if (user) {
    COVE_TRY_ASSIGN(uid, user->integer("uid", 0, UINT32_MAX - 1));
    COVE_TRY_ASSIGN(gid, user->integer("gid", 0, UINT32_MAX - 1));
    if (!uid || !gid) {
      return Error::make(EINVAL, "{}: needs both uid and gid", user->path());
    }
    COVE_TRY(user->finish());
    r.user = User{static_cast<uint32_t>(*uid), static_cast<uint32_t>(*gid)};
  }
  if (const Json* gids = o.get("additionalGids"); gids != nullptr) {
    if (!gids->is_array()) {
      return Error::make(EINVAL, "{}: expected an array of group ids", o.at("additionalGids"));
    }
    for (const auto& g : *gids) {
      if (!g.is_number_unsigned() || g.get<uint64_t>() >= UINT32_MAX) {
        return Error::make(EINVAL, "{}: {} is not a group id", o.at("additionalGids"), g.dump());
      }
      r.additional_gids.push_back(g.get<uint32_t>());
    }
  }
  COVE_TRY_ASSIGN(nnp, o.boolean("noNewPrivileges"));
  r.no_new_privileges = nnp.value_or(true);

  COVE_TRY_ASSIGN(caps, o.strings("capabilities"));
  for (size_t i = 0; i < caps.size(); ++i) {
    if (!is_known_capability(caps[i])) {
      return Error::make(EINVAL, "{}[{}]: unknown capability \"{}\" (names look like CAP_CHOWN)",
                         o.at("capabilities"), i, caps[i]);
    }
  }
  r.capabilities = caps;

  COVE_TRY_ASSIGN(sec, o.object("seccomp"));
  if (sec) {
    COVE_TRY_ASSIGN(baseline, sec->str("baseline"));
    if (baseline && *baseline != "cove-default") {
      return Error::make(EINVAL, "{}: unknown baseline \"{}\" (known: cove-default)",
                         sec->at("baseline"), *baseline);
    }
    COVE_TRY_ASSIGN(deny, sec->strings("deny"));
    for (size_t i = 0; i < deny.size(); ++i) {
      if (!is_known_syscall(deny[i])) {
        return Error::make(EINVAL, "{}[{}]: unknown syscall \"{}\"", sec->at("deny"), i, deny[i]);
      }
    }
    r.seccomp.deny = deny;
    COVE_TRY(sec->finish());
  }

  COVE_TRY_ASSIGN(mem, o.object("memory"));
  if (mem) {
    COVE_TRY_ASSIGN(limit, mem->size("limit"));
    COVE_TRY_ASSIGN(reservation, mem->size("reservation"));
    if (limit && reservation && *reservation > *limit) {
      return Error::make(EINVAL, "{}: reservation {} exceeds limit {}", mem->path(), *reservation, *limit);
    }
    r.memory_limit = limit;
    r.memory_reservation = reservation;
    COVE_TRY(mem->finish());
  }

  COVE_TRY_ASSIGN(cpu, o.object("cpu"));
  if (cpu) {
    Cpu c;
    const Json* cpus = cpu->get("cpus");
    if (cpus == nullptr || !cpus->is_number() || cpus->get<double>() <= 0 || !std::isfinite(cpus->get<double>())) {
      return Error::make(EINVAL, "{}: expected a positive number of CPUs such as 0.5", cpu->at("cpus"));
    }
    c.cpus = cpus->get<double>();
    COVE_TRY_ASSIGN(period, cpu->integer("period", 1000, 1000000));
    c.period = static_cast<uint64_t>(period.value_or(100000));
    COVE_TRY(cpu->finish());
    r.cpu = c;
  }

  COVE_TRY_ASSIGN(pids, o.integer("pids", 1, INT64_MAX));
  r.pids = pids;

  if (const Json* rl = o.get("rlimits"); rl != nullptr) {
    if (!rl->is_array()) {
      return Error::make(EINVAL, "{}: expected an array", o.at("rlimits"));
    }
    for (size_t i = 0; i < rl->size(); ++i) {
      if (!(*rl)[i].is_object()) {
        return Error::make(EINVAL, "{}[{}]: expected an object", o.at("rlimits"), i);
      }
      Obj e((*rl)[i], o.at("rlimits") + "[" + std::to_string(i) + "]");
      COVE_TRY_ASSIGN(type, e.str("type"));
      if (!type || !known_rlimits().count(*type)) {
        return Error::make(EINVAL, "{}: unknown rlimit type \"{}\"", e.at("type"), type.value_or(""));
      }
      COVE_TRY_ASSIGN(soft, e.integer("soft", 0, INT64_MAX));
      COVE_TRY_ASSIGN(hard, e.integer("hard", 0, INT64_MAX));
      if (!soft || !hard) {
        return Error::make(EINVAL, "{}: needs soft and hard", e.path());
      }
      if (*soft > *hard) {
        return Error::make(EINVAL, "{}: soft {} exceeds hard {}", e.path(), *soft, *hard);
      }
      COVE_TRY(e.finish());
      r.rlimits.push_back(Rlimit{*type, static_cast<uint64_t>(*soft), static_cast<uint64_t>(*hard)});
    }
  }

  COVE_TRY_ASSIGN(ro, o.boolean("readonlyRootfs"));
  r.readonly_rootfs = ro.value_or(false);

  if (const Json* tm = o.get("tmpfs"); tm != nullptr) {
    if (!tm->is_array()) {
      return Error::make(EINVAL, "{}: expected an array", o.at("tmpfs"));
    }
    for (size_t i = 0; i < tm->size(); ++i) {
      if (!(*tm)[i].is_object()) {
        return Error::make(EINVAL, "{}[{}]: expected an object", o.at("tmpfs"), i);
      }
      Obj e((*tm)[i], o.at("tmpfs") + "[" + std::to_string(i) + "]");
      COVE_TRY_ASSIGN(dest, e.str("destination"));
      if (!dest) {
        return Error::make(EINVAL, "{}: missing", e.at("destination"));
      }
      COVE_TRY(check_abs_path(e.at("destination"), *dest));
      COVE_TRY_ASSIGN(opts, e.strings("options"));
      COVE_TRY(e.finish());
      r.tmpfs.push_back(TmpfsMount{*dest, opts});
    }
  }
  COVE_TRY_ASSIGN(masked, abs_paths(o, "maskedPaths"));
  r.masked_paths = masked;
  COVE_TRY_ASSIGN(ropaths, abs_paths(o, "readonlyPaths"));
  r.readonly_paths = ropaths;

  COVE_TRY_ASSIGN(mounts, o.object("mounts"));
  if (mounts) {
    COVE_TRY_ASSIGN(deny, abs_paths(*mounts, "deny"));
    COVE_TRY_ASSIGN(allow, abs_paths(*mounts, "allow"));
    COVE_TRY_ASSIGN(read_only, abs_paths(*mounts, "readOnly"));
    for (const auto& a : allow) {
      for (const auto& d : deny) {
        if (a == d) {
          return Error::make(EINVAL, "{}: \"{}\" is both allowed and denied", mounts->path(), a);
        }
      }
    }
    r.mounts = MountRules{deny, allow, read_only};
    COVE_TRY(mounts->finish());
  }

  COVE_TRY_ASSIGN(ws, o.object("workspace"));
  if (ws) {
    Workspace w;
    COVE_TRY_ASSIGN(dest, ws->str("destination"));
    if (dest) {
      COVE_TRY(check_abs_path(ws->at("destination"), *dest));
      w.destination = *dest;
    }
    COVE_TRY_ASSIGN(mode, ws->str("mode"));
    if (!mode || (*mode != "rw" && *mode != "ro")) {
      return Error::make(EINVAL, "{}: expected \"rw\" or \"ro\"", ws->at("mode"));
    }
    w.read_only = *mode == "ro";
    COVE_TRY_ASSIGN(prot, ws->strings("protected"));
    COVE_TRY_ASSIGN(hidden, ws->strings("hidden"));
    for (auto* list : {&prot, &hidden}) {
      for (const auto& g : *list) {
        if (g.empty() || g[0] == '/' || g.find("..") != std::string::npos) {
          return Error::make(EINVAL, "{}: \"{}\" must be relative to the workspace root, without '..'",
                             ws->at(list == &prot ? "protected" : "hidden"), g);
        }
      }
    }
    w.protected_paths = prot;
    w.hidden_paths = hidden;
    COVE_TRY(ws->finish());
    r.workspace = w;
  }

  COVE_TRY_ASSIGN(hostns, o.object("hostNamespaces"));
  if (hostns) {
    COVE_TRY_ASSIGN(net, hostns->boolean("network"));
    COVE_TRY_ASSIGN(pid, hostns->boolean("pid"));
    COVE_TRY_ASSIGN(ipc, hostns->boolean("ipc"));
    r.host_namespaces = HostNamespaces{net.value_or(false), pid.value_or(false), ipc.value_or(false)};
    COVE_TRY(hostns->finish());
  }
  COVE_TRY(o.finish());
  return r;
}

bool valid_role_name(const std::string& n) {
  if (n.empty() || n.size() > 64) {
    return false;
  }
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

Result<Policy> parse_policy_json(const Json& doc) {
  if (!doc.is_object()) {
    return Error::make(EINVAL, "top level must be an object");
  }
  Policy p;
  Obj top(doc, "");
  COVE_TRY_ASSIGN(version, top.integer("version", 1, 1));
  (void)version;
  COVE_TRY_ASSIGN(audit, top.str("auditLog"));
  if (audit) {
    COVE_TRY(check_abs_path("auditLog", *audit));
    p.audit_log = *audit;
  }
  COVE_TRY_ASSIGN(state, top.str("stateDir"));
  if (state) {
    COVE_TRY(check_abs_path("stateDir", *state));
    p.state_dir = *state;
  }
  COVE_TRY_ASSIGN(wsroot, top.str("workspaceRoot"));
  if (wsroot) {
    COVE_TRY(check_abs_path("workspaceRoot", *wsroot));
    p.workspace_root = *wsroot;
  }
  COVE_TRY_ASSIGN(defb, top.str("defaultBackend"));
  if (defb) {
    COVE_TRY(check_abs_path("defaultBackend", *defb));
    p.default_backend = *defb;
  }
  COVE_TRY_ASSIGN(roles, top.object("roles"));
  if (!roles) {
    return Error::make(EINVAL, "roles: missing (a policy names at least one role)");
  }
  const Json& roles_json = doc.at("roles");
  for (auto it = roles_json.begin(); it != roles_json.end(); ++it) {
    roles->get(it.key());
    if (!valid_role_name(it.key())) {
      return Error::make(EINVAL, "roles.{}: a role name is letters, digits, '-', '_' or '.'", it.key());
    }
    if (!it->is_object()) {
      return Error::make(EINVAL, "roles.{}: expected an object", it.key());
    }
    Obj ro(*it, "roles." + it.key());
    COVE_TRY_ASSIGN(role, parse_role(it.key(), ro));
    p.roles.emplace(it.key(), std::move(role));
  }
  if (p.roles.empty()) {
    return Error::make(EINVAL, "roles: empty (a policy names at least one role)");
  }
  COVE_TRY_ASSIGN(quotas, top.object("quotas"));
  if (quotas) {
    const Json& qj = doc.at("quotas");
    for (auto it = qj.begin(); it != qj.end(); ++it) {
      quotas->get(it.key());
      if (it.key() != "*" && !valid_role_name(it.key())) {
        return Error::make(EINVAL, "quotas.{}: not a team name (or \"*\" for every team)", it.key());
      }
      if (!it->is_object()) {
        return Error::make(EINVAL, "quotas.{}: expected an object", it.key());
      }
      Obj q(*it, "quotas." + it.key());
      COVE_TRY_ASSIGN(bytes, q.size("bytes"));
      COVE_TRY_ASSIGN(inodes, q.integer("inodes", 1, INT64_MAX));
      COVE_TRY(q.finish());
      p.quotas[it.key()] = Quota{bytes, inodes};
    }
  }
  COVE_TRY_ASSIGN(unmatched, top.object("unmatched"));
  if (unmatched) {
    COVE_TRY_ASSIGN(action, unmatched->str("action"));
    COVE_TRY_ASSIGN(role, unmatched->str("role"));
    if (action == "refuse") {
      p.unmatched = Unmatched::kRefuse;
    } else if (action == "passthrough") {
      p.unmatched = Unmatched::kPassthrough;
    } else if (action == "role") {
      if (!role) {
        return Error::make(EINVAL, "unmatched.role: missing (action \"role\" names the role to use)");
      }
      if (!p.roles.count(*role)) {
        return Error::make(EINVAL, "unmatched.role: \"{}\" is not a role of this policy (roles: {})",
                           *role, p.role_names());
      }
      p.unmatched = Unmatched::kRole;
      p.unmatched_role = *role;
    } else {
      return Error::make(EINVAL, "unmatched.action: expected \"role\", \"passthrough\" or \"refuse\"");
    }
    COVE_TRY(unmatched->finish());
  }
  COVE_TRY(top.finish());
  return p;
}

}  // namespace

const Role* Policy::find_role(const std::string& name) const {
  auto it = roles.find(name);
  return it == roles.end() ? nullptr : &it->second;
}

Quota Policy::quota_for(const std::string& team) const {
  if (auto it = quotas.find(team); it != quotas.end()) {
    return it->second;
  }
  if (auto it = quotas.find("*"); it != quotas.end()) {
    return it->second;
  }
  return Quota{};
}

std::string Policy::role_names() const {
  std::string out;
  for (const auto& [name, _] : roles) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name;
  }
  return out;
}

Result<int64_t> parse_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  if (i == 0 || i > 18) {
    return Error::make(EINVAL, "\"{}\" is not a size (write e.g. \"2GiB\", \"512MiB\" or a byte count)", text);
  }
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  static const std::pair<const char*, int> kUnits[] = {
      {"", 0},    {"B", 0},    {"k", 10},  {"K", 10},  {"KiB", 10}, {"KB", 10}, {"m", 20},
      {"M", 20},  {"MiB", 20}, {"MB", 20}, {"g", 30},  {"G", 30},   {"GiB", 30}, {"GB", 30},
      {"t", 40},  {"T", 40},   {"TiB", 40}, {"TB", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit == name) {
      if (shift > 0 && n > (INT64_MAX >> shift)) {
        return Error::make(ERANGE, "\"{}\" is too large", text);
      }
      if (n == 0) {
        return Error::make(EINVAL, "\"{}\": a size must be positive", text);
      }
      return n << shift;
    }
  }
  return Error::make(EINVAL, "\"{}\": unknown unit \"{}\" (use B, KiB, MiB, GiB or TiB)", text, unit);
}

bool is_known_capability(const std::string& name) {
  if (name.size() < 5 || name.compare(0, 4, "CAP_") != 0) {
    return false;
  }
  cap_value_t v = 0;
  return cap_from_name(name.c_str(), &v) == 0;
}

bool is_known_syscall(const std::string& name) {
  return seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR;
}

Result<Policy> parse_policy(const std::string& text, const std::string& what) {
  auto doc = base::parse_jsonc(text, what);
  if (!doc) {
    return doc.error();
  }
  auto p = parse_policy_json(*doc);
  if (!p) {
    return p.error().wrap("policy {}", what);
  }
  p->path = what;
  p->digest = "sha256:" + base::sha256_hex(text);
  return p;
}

Result<Policy> load_policy(const std::string& path) {
  auto text = base::read_file(path);
  if (!text) {
    return text.error().wrap("read policy");
  }
  return parse_policy(*text, path);
}

}  // namespace policy
