// cove policy lint: see policy_lint.h for the approach and docs/cli.md for the list of checks.
#include "tools/cli/policy_lint.h"

#include <seccomp.h>
#include <sys/capability.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "base/file.h"
#include "base/jsonc.h"
#include "policy/path_match.h"
#include "policy/policy.h"
#include "tools/cli/docker_default.h"
#include "tools/cli/host_path.h"
#include "tools/cli/json_path.h"
#include "tools/cli/seccomp_view.h"

namespace cli {

namespace {

// ---- names ------------------------------------------------------------------------------------

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1);
  std::vector<size_t> cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (std::toupper(static_cast<unsigned char>(a[i - 1])) ==
                                            std::toupper(static_cast<unsigned char>(b[j - 1]))
                                        ? 0
                                        : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean CAP_SYS_ADMIN?)" for the closest known name within a few edits, else "".
std::string suggestion(const std::string& name, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 4) + 1;
  for (const auto& k : known) {
    size_t d = edit_distance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

const std::vector<std::string>& known_capabilities() {
  static const std::vector<std::string> caps = [] {
    std::vector<std::string> out;
    for (int v = 0; v < 64; ++v) {
      char* n = cap_to_name(static_cast<cap_value_t>(v));
      if (n == nullptr) {
        continue;
      }
      std::string s(n);
      cap_free(n);
      if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) {
        continue;  // libcap prints unknown values as numbers
      }
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
      out.push_back(s);
    }
    return out;
  }();
  return caps;
}

struct Arch {
  uint32_t token;
  const char* name;
};
// The architectures a cove container can run code for on an x86_64 host: the profile lists all
// three, and a 32-bit or x32 binary inside the container reaches the kernel through them.
constexpr Arch kArches[] = {{SCMP_ARCH_X86_64, "x86_64"}, {SCMP_ARCH_X86, "x86"}, {SCMP_ARCH_X32, "x32"}};

// libseccomp answers a name it knows on some other architecture with a pseudo number <= -10000
// (__PNR_*), and multiplexed socketcall/ipc calls on x86 with -101..-299, which do work.
bool syscall_on_arch(uint32_t arch, const std::string& name) {
  int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
  return nr >= 0 || (nr < -100 && nr > -10000);
}

// ---- mounts -----------------------------------------------------------------------------------

struct Sensitive {
  const char* path;
  const char* what;
  bool inside_too;  // anything below it is as dangerous as the directory itself
};
const Sensitive kSensitive[] = {
    {"/proc", "the host's /proc (every host process; /proc/1/root is the host's root filesystem)", true},
    {"/sys", "the host's /sys (kernel and device settings)", true},
    {"/dev", "the host's devices", true},
    {"/etc", "the host's /etc (passwords, sudoers, cron, systemd units)", false},
    {"/boot", "the host's kernel and boot loader", false},
    {"/root", "root's home directory (ssh keys, credentials)", false},
    {"/var/lib/docker", "Docker's state: every container's filesystem and volumes", false},
    {"/var/lib/containerd", "containerd's state: every container's filesystem", false},
    {"/var/lib/kubelet", "the kubelet's state: every pod's secrets and volumes", false},
};

struct Socket {
  const char* path;
  const char* what;
};
const Socket kSockets[] = {
    {"/run/docker.sock", "the Docker socket: whoever can reach it is root on the host"},
    {"/run/containerd/containerd.sock", "the containerd socket: whoever can reach it is root on the host"},
};

// ---- capabilities -----------------------------------------------------------------------------

// Capabilities beyond Docker's default whose grant is a known way out of a container.
const std::map<std::string, std::string>& dangerous_capabilities() {
  static const std::map<std::string, std::string> k = {
      {"CAP_SYS_ADMIN", "mount, namespaces and most of the kernel's admin interfaces: the usual container escape"},
      {"CAP_SYS_PTRACE", "ptrace and process_vm_readv on other processes: their memory and secrets"},
      {"CAP_SYS_MODULE", "loading kernel modules: arbitrary code in the host kernel"},
      {"CAP_NET_ADMIN", "reconfiguring interfaces, routes and firewall rules"},
      {"CAP_BPF", "loading BPF programs into the kernel"},
      {"CAP_PERFMON", "perf events and BPF tracing, which observe the host"},
      {"CAP_SYS_RAWIO", "raw I/O ports and /dev/mem"},
      {"CAP_DAC_READ_SEARCH", "open_by_handle_at, which reads host files (the \"shocker\" escape)"},
      {"CAP_SYS_BOOT", "reboot and kexec_load"},
      {"CAP_SYS_TIME", "setting the host's clock"},
      {"CAP_MAC_ADMIN", "changing the AppArmor/SELinux policy"},
      {"CAP_MAC_OVERRIDE", "bypassing AppArmor/SELinux"},
      {"CAP_SYSLOG", "reading the kernel log, which leaks kernel addresses"},
      {"CAP_AUDIT_CONTROL", "changing the kernel's audit rules"},
      {"CAP_CHECKPOINT_RESTORE", "choosing PIDs and restoring processes"},
  };
  return k;
}

// ---- the finding list -------------------------------------------------------------------------

class Findings {
 public:
  explicit Findings(std::string file) : file_(std::move(file)) {}

  void add(Severity s, std::string path, std::string check, std::string message) {
    paths_.insert(path);
    list_.push_back(Finding{s, file_, std::move(path), std::move(check), std::move(message)});
  }
  void error(std::string path, std::string check, std::string message) {
    add(Severity::kError, std::move(path), std::move(check), std::move(message));
  }
  void warning(std::string path, std::string check, std::string message) {
    add(Severity::kWarning, std::move(path), std::move(check), std::move(message));
  }
  bool reported(const std::string& path) const { return paths_.count(path) != 0; }
  std::vector<Finding> take() { return std::move(list_); }

 private:
  std::string file_;
  std::set<std::string> paths_;
  std::vector<Finding> list_;
};

using Json = nlohmann::ordered_json;

// ---- duplicate keys ---------------------------------------------------------------------------

// nlohmann keeps the last of two equal keys without a word, so a role defined twice silently
// loses its first definition. A SAX pass sees every key as written.
class DuplicateKeys : public nlohmann::json_sax<nlohmann::json> {
 public:
  struct Dup {
    std::string path;
    std::string parent;
    std::string key;
  };
  std::vector<Dup> dups;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      dups.push_back(Dup{child(f.path, k), f.path, k});
    }
    f.key = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool object = false;
    std::string path;
    std::set<std::string> keys;
    std::string key;
    size_t index = 0;
  };
  std::vector<Frame> stack_;

  static std::string child(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }
  std::string next_path() {
    if (stack_.empty()) {
      return "";
    }
    Frame& f = stack_.back();
    if (f.object) {
      return child(f.path, f.key);
    }
    return f.path + "[" + std::to_string(f.index++) + "]";
  }
  bool value() {
    next_path();
    return true;
  }
  bool open(bool object) {
    std::string p = next_path();
    stack_.push_back(Frame{object, p, {}, {}, 0});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
};

void check_duplicates(const std::string& text, Findings& f) {
  DuplicateKeys sax;
  std::string stripped = base::strip_json_comments(text);
  nlohmann::json::sax_parse(stripped, &sax);
  for (const auto& d : sax.dups) {
    if (d.parent == "roles") {
      f.error(d.path, "role-shadowed",
              "role \"" + d.key +
                  "\" is defined twice; JSON keeps the last definition, so the earlier one can never be "
                  "selected and its settings are silently ignored");
    } else {
      f.error(d.path, "duplicate-key",
              "\"" + d.key + "\" appears twice in " + (d.parent.empty() ? "the top level" : d.parent) +
                  "; JSON keeps the last one and silently ignores the earlier");
    }
  }
}

// ---- names on the raw document ----------------------------------------------------------------

// Checks capability and syscall names where they are written, and returns the paths of the
// entries the loader would reject (to be removed before loading).
std::vector<std::vector<PathStep>> check_names(const Json& doc, Findings& f) {
  std::vector<std::vector<PathStep>> rejected;
  auto roles = doc.find("roles");
  if (roles == doc.end() || !roles->is_object()) {
    return rejected;
  }
  for (auto r = roles->begin(); r != roles->end(); ++r) {
    if (!r->is_object()) {
      continue;
    }
    const std::string& name = r.key();
    std::string prefix = "roles." + name;
    if (auto caps = r->find("capabilities"); caps != r->end() && caps->is_array()) {
      for (size_t i = 0; i < caps->size(); ++i) {
        const Json& c = (*caps)[i];
        if (!c.is_string() || policy::is_known_capability(c.get<std::string>())) {
          continue;
        }
        std::string cap = c.get<std::string>();
        f.error(prefix + ".capabilities[" + std::to_string(i) + "]", "unknown-capability",
                "unknown capability \"" + cap + "\"" + suggestion(cap, known_capabilities()) +
                    "; cove-runtime refuses to load this policy");
        rejected.push_back({std::string("roles"), name, std::string("capabilities"), i});
      }
    }
    auto sec = r->find("seccomp");
    if (sec == r->end() || !sec->is_object()) {
      continue;
    }
    auto deny = sec->find("deny");
    if (deny == sec->end() || !deny->is_array()) {
      continue;
    }
    for (size_t i = 0; i < deny->size(); ++i) {
      if (!(*deny)[i].is_string()) {
        continue;
      }
      std::string sys = (*deny)[i].get<std::string>();
      std::vector<std::string> on;
      std::vector<std::string> off;
      for (const auto& a : kArches) {
        (syscall_on_arch(a.token, sys) ? on : off).emplace_back(a.name);
      }
      std::string path = prefix + ".seccomp.deny[" + std::to_string(i) + "]";
      if (on.empty()) {
        f.error(path, "unknown-syscall",
                "\"" + sys + "\" is not a syscall on x86_64, x86 or x32" + suggestion(sys, native_syscall_names()) +
                    "; denying it protects nothing");
        // The loader accepts names libseccomp knows on any architecture; only the unknown
        // everywhere are rejected, and those are the ones removed before loading.
        if (!policy::is_known_syscall(sys)) {
          rejected.push_back({std::string("roles"), name, std::string("seccomp"), std::string("deny"), i});
        }
      } else if (!off.empty()) {
        f.warning(path, "syscall-not-on-all-architectures",
                  "\"" + sys + "\" is a syscall on " + join(on) + " but not on " + join(off) +
                      "; the denial has no effect there");
      }
    }
  }
  return rejected;
}

// ---- loading with salvage ---------------------------------------------------------------------

// Maps paths in the working copy (entries removed) back to the file's own paths, so that each
// finding points at what the author wrote.
class Removals {
 public:
  std::vector<PathStep> to_original(const std::vector<PathStep>& steps) const {
    std::vector<PathStep> out;
    for (const auto& s : steps) {
      if (const auto* k = std::get_if<std::string>(&s)) {
        out.emplace_back(*k);
        continue;
      }
      size_t i = std::get<size_t>(s);
      auto it = removed_.find(format_path(out));
      size_t orig = i;
      if (it != removed_.end()) {
        size_t count = 0;
        for (size_t j = 0;; ++j) {
          if (it->second.count(j)) {
            continue;
          }
          if (count == i) {
            orig = j;
            break;
          }
          ++count;
        }
      }
      out.emplace_back(orig);
    }
    return out;
  }

  /// Removes `steps` (working-copy path) from `work`; returns its original path.
  std::string remove(Json& work, const std::vector<PathStep>& steps) {
    std::vector<PathStep> orig = to_original(steps);
    std::string orig_path = format_path(orig);
    if (!steps.empty() && std::holds_alternative<size_t>(steps.back())) {
      std::vector<PathStep> parent(orig.begin(), orig.end() - 1);
      removed_[format_path(parent)].insert(std::get<size_t>(orig.back()));
    }
    (void)erase_at(work, steps);
    deleted_.push_back(orig_path);
    return orig_path;
  }

  /// True if `orig_path` is, or lies inside, something removed before (an error caused by the
  /// removal rather than by the author).
  bool caused_by_removal(const std::string& orig_path) const {
    for (const auto& d : deleted_) {
      if (orig_path == d || orig_path.rfind(d + ".", 0) == 0 || orig_path.rfind(d + "[", 0) == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  std::map<std::string, std::set<size_t>> removed_;
  std::vector<std::string> deleted_;
};

// Splits a loader error ("policy F: roles.a.pids: -1 is out of range [1, ...]") into the path
// and the reason; the path is empty when the message names none.
std::pair<std::string, std::string> split_loader_error(const std::string& message, const std::string& file) {
  std::string msg = message;
  std::string prefix = "policy " + file + ": ";
  if (msg.rfind(prefix, 0) == 0) {
    msg = msg.substr(prefix.size());
  }
  size_t colon = msg.find(": ");
  if (colon == std::string::npos) {
    return {"", msg};
  }
  std::string path = msg.substr(0, colon);
  if (path.empty() || path.find(' ') != std::string::npos) {
    return {"", msg};
  }
  return {path, msg.substr(colon + 2)};
}

struct Salvaged {
  std::optional<policy::Policy> policy;  // nullopt: nothing loadable was left
  Removals removals;                     // what was removed to get there
};

Salvaged load_with_salvage(const std::string& text, const std::string& file, const Json& doc,
                           const std::vector<std::vector<PathStep>>& rejected, Findings& f) {
  Salvaged out;
  Json work = doc;
  Removals& removals = out.removals;
  // Every rejected entry is an array element; within one array the highest index goes first, so
  // that the lower indices stay valid.
  auto sorted = rejected;
  auto key = [](const std::vector<PathStep>& s) {
    std::vector<PathStep> parent(s.begin(), s.end() - 1);
    return std::make_pair(format_path(parent), std::get<size_t>(s.back()));
  };
  std::sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
  for (const auto& steps : sorted) {
    (void)removals.remove(work, steps);
  }
  bool pristine = sorted.empty();
  // Each round fixes one error; a policy has far fewer mistakes than this bound.
  for (int round = 0; round < 200; ++round) {
    auto loaded = pristine ? policy::parse_policy(text, file) : policy::parse_policy(work.dump(), file);
    if (loaded) {
      out.policy = std::move(*loaded);
      return out;
    }
    pristine = false;
    auto [path_text, reason] = split_loader_error(loaded.error().message(), file);
    ResolvedPath rp = path_text.empty() ? ResolvedPath{} : resolve_path(work, path_text);
    if (rp.steps.empty()) {
      f.error("", "rejected-by-loader", reason + " (lint cannot check the rest of the file)");
      return out;
    }
    std::string orig_path = format_path(removals.to_original(rp.steps));
    bool artifact = removals.caused_by_removal(orig_path);
    if (!artifact && !f.reported(orig_path)) {
      f.error(orig_path, "rejected-by-loader", reason + "; cove-runtime refuses to load this policy");
    }
    // Remove what was rejected; when it does not exist (a missing required key) or its removal
    // caused the error, remove the nearest enclosing object instead (for a role: the role, which
    // is then not checked further).
    std::vector<PathStep> del = rp.steps;
    if (!rp.exists || artifact) {
      del.pop_back();
      while (!del.empty() && node_at(work, del) == nullptr) {
        del.pop_back();
      }
    }
    bool is_roles =
        del.size() == 1 && std::get_if<std::string>(&del[0]) != nullptr && std::get<std::string>(del[0]) == "roles";
    if (del.empty() || is_roles) {
      return out;
    }
    (void)removals.remove(work, del);
  }
  return out;
}

// ---- checks on the loaded policy --------------------------------------------------------------

class RoleChecks {
 public:
  RoleChecks(const policy::Policy& p, const policy::Role& r, const Json& doc, const LintHost& host, Findings& f)
      : p_(p), r_(r), doc_(doc), host_(host), f_(f), prefix_("roles." + r.name) {}

  void run() {
    capabilities();
    privileges();
    limits();
    mounts();
    workspace();
    backend();
  }

 private:
  const policy::Policy& p_;
  const policy::Role& r_;
  const Json& doc_;
  const LintHost& host_;
  Findings& f_;
  std::string prefix_;

  // "roles.a.mounts.allow[2]": the index of `value` in the array at `array` as written.
  std::string elem(const std::string& array, const std::string& value) const {
    ResolvedPath rp = resolve_path(doc_, prefix_ + "." + array);
    const Json* arr = rp.exists ? node_at(doc_, rp.steps) : nullptr;
    if (arr != nullptr && arr->is_array()) {
      for (size_t i = 0; i < arr->size(); ++i) {
        const Json& v = (*arr)[i];
        if (v.is_string()) {
          std::string s = v.get<std::string>();
          while (s.size() > 1 && s.back() == '/') {
            s.pop_back();  // the loader strips trailing slashes from paths
          }
          if (s == value) {
            return prefix_ + "." + array + "[" + std::to_string(i) + "]";
          }
        }
      }
    }
    return prefix_ + "." + array;
  }

  // The path of `key` if the role writes it, else of the role.
  std::string field(const std::string& key) const {
    ResolvedPath rp = resolve_path(doc_, prefix_ + "." + key);
    return rp.exists ? prefix_ + "." + key : prefix_;
  }

  void capabilities() {
    const auto& docker = docker_default_capabilities();
    for (const auto& c : r_.capabilities) {
      auto d = dangerous_capabilities().find(c);
      if (d != dangerous_capabilities().end()) {
        f_.error(elem("capabilities", c), "capability-dangerous",
                 "role " + r_.name + " keeps " + c + " (" + d->second +
                     "), which Docker's default drops; this loosens the baseline");
      } else if (std::find(docker.begin(), docker.end(), c) == docker.end()) {
        f_.warning(elem("capabilities", c), "capability-beyond-docker",
                   "role " + r_.name + " keeps " + c + ", which Docker's default does not grant");
      }
    }
  }

  void privileges() {
    if (!r_.no_new_privileges) {
      f_.error(field("noNewPrivileges"), "no-new-privileges",
               "noNewPrivileges is false: setuid binaries and file capabilities can raise privileges inside "
               "the container");
    }
    const std::pair<const char*, bool> ns[] = {
        {"network", r_.host_namespaces.network}, {"pid", r_.host_namespaces.pid}, {"ipc", r_.host_namespaces.ipc}};
    for (const auto& [name, shared] : ns) {
      if (shared) {
        f_.error(field(std::string("hostNamespaces.") + name), "host-namespace",
                 std::string("hostNamespaces.") + name + " is true: containers of role " + r_.name +
                     " may share the host's " + name + " namespace");
      }
    }
    if (!r_.user) {
      f_.warning(prefix_, "no-user",
                 "role " + r_.name +
                     " sets no user: containers run as whatever the image or caller says, "
                     "root included");
    } else if (r_.user->uid == 0) {
      f_.warning(field("user.uid"), "root-user", "role " + r_.name + " runs its containers as root (uid 0)");
    }
    for (uint32_t g : r_.additional_gids) {
      if (g == 0) {
        f_.warning(field("additionalGids"), "root-group",
                   "additionalGids keeps group 0 (root), which Docker adds to every container and cove "
                   "otherwise drops");
      }
    }
  }

  void limits() {
    if (!r_.memory_limit) {
      f_.error(field("memory"), "no-memory-limit",
               "role " + r_.name +
                   " has no memory.limit: a container keeps whatever limit it asks for, none "
                   "included");
    } else if (host_.mem_total && *r_.memory_limit > *host_.mem_total) {
      f_.warning(field("memory.limit"), "limit-exceeds-host",
                 "memory.limit " + format_bytes(*r_.memory_limit) + " exceeds this host's memory (" +
                     format_bytes(*host_.mem_total) + "): it limits nothing here");
    }
    if (r_.memory_reservation && host_.mem_total && *r_.memory_reservation > *host_.mem_total) {
      f_.warning(field("memory.reservation"), "limit-exceeds-host",
                 "memory.reservation " + format_bytes(*r_.memory_reservation) + " exceeds this host's memory (" +
                     format_bytes(*host_.mem_total) + ")");
    }
    if (!r_.pids) {
      f_.error(prefix_, "no-pids-limit",
               "role " + r_.name + " has no pids limit: a fork bomb in one container exhausts the host's PIDs");
    } else if (host_.pid_max && *r_.pids > *host_.pid_max) {
      f_.warning(field("pids"), "limit-exceeds-host",
                 "pids " + std::to_string(*r_.pids) + " exceeds this host's pid_max (" +
                     std::to_string(*host_.pid_max) + "): it limits nothing here");
    }
    if (!r_.cpu) {
      f_.warning(prefix_, "no-cpu-limit", "role " + r_.name + " has no cpu limit: one container can take every CPU");
    } else if (host_.cpus && r_.cpu->cpus > static_cast<double>(*host_.cpus) + 1e-9) {
      f_.warning(
          field("cpu.cpus"), "limit-exceeds-host",
          fmt::format("cpu.cpus {} exceeds this host's {} CPUs: it limits nothing here", r_.cpu->cpus, *host_.cpus));
    }
  }

  void mounts() {
    const auto& m = r_.mounts;
    std::vector<std::string> deny;
    for (const auto& d : m.deny) {
      deny.push_back(normalize_host_path(d));
    }
    for (const auto& a : m.allow) {
      std::string na = normalize_host_path(a);
      std::string where = elem("mounts.allow", a);
      if (na == "/") {
        f_.error(where, "mount-allow-sensitive",
                 "mounts.allow contains \"/\": bind mounts of any host path are allowed, the host's /etc, /proc "
                 "and Docker socket included");
        continue;
      }
      for (const auto& s : kSensitive) {
        if (path_under(s.path, na) || (s.inside_too && path_under(na, s.path))) {
          f_.error(where, "mount-allow-sensitive",
                   "mounts.allow \"" + a + "\" allows bind mounts of " + (path_under(s.path, na) ? s.path : a) + ", " +
                       s.what);
        }
      }
      bool socket_open = false;
      for (const auto& s : kSockets) {
        if (!path_under(s.path, na)) {
          continue;
        }
        bool denied =
            std::any_of(deny.begin(), deny.end(), [&](const std::string& d) { return path_under(s.path, d); });
        if (!denied) {
          socket_open = true;
          f_.error(where, "mount-allow-docker-socket",
                   "mounts.allow \"" + a + "\" allows bind mounts of " + s.path + " (" + s.what +
                       ") and mounts.deny does not deny it");
        }
      }
      if (!socket_open && path_under("/run", na)) {
        f_.warning(where, "mount-allow-sensitive",
                   "mounts.allow \"" + a +
                       "\" allows bind mounts of the host's /run (runtime state: cove's own "
                       "container records, other daemons' sockets)");
      }
      for (size_t j = 0; j < m.deny.size(); ++j) {
        if (path_under(na, deny[j])) {
          f_.error(where, "mount-rules-contradict",
                   "mounts.allow \"" + a + "\" lies inside the denied \"" + m.deny[j] +
                       "\": every bind mount from it is refused, so the allow entry has no effect");
        } else if (path_under(deny[j], na)) {
          f_.warning(elem("mounts.deny", m.deny[j]), "mount-rules-overlap",
                     "mounts.deny \"" + m.deny[j] + "\" lies inside the allowed \"" + a + "\": \"" + a +
                         "\" itself (and any directory holding \"" + m.deny[j] +
                         "\") is refused; only its other subdirectories can be mounted");
        }
      }
    }
    for (const auto& ro : m.read_only) {
      std::string nr = normalize_host_path(ro);
      std::string where = elem("mounts.readOnly", ro);
      bool reachable = std::any_of(m.allow.begin(), m.allow.end(), [&](const std::string& a) {
        std::string na = normalize_host_path(a);
        return path_under(nr, na) || path_under(na, nr);
      });
      if (!reachable) {
        f_.error(where, "mount-rules-contradict",
                 "mounts.readOnly \"" + ro + "\" lies outside every mounts.allow entry" +
                     (m.allow.empty() ? " (there are none)" : "") +
                     ": bind mounts from there are refused anyway, so the rule never applies");
        continue;
      }
      for (size_t j = 0; j < m.deny.size(); ++j) {
        if (path_under(nr, deny[j])) {
          f_.error(where, "mount-rules-contradict",
                   "mounts.readOnly \"" + ro + "\" lies inside the denied \"" + m.deny[j] +
                       "\": bind mounts from there are refused, so the rule never applies");
        }
      }
    }
  }

  void patterns(const std::vector<std::string>& list, const std::string& key, const char* kind) {
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string& pat = list[i];
      std::string where = field("workspace." + key) + "[" + std::to_string(i) + "]";
      if (!seen.insert(pat).second) {
        f_.warning(where, "pattern-duplicate", std::string(kind) + " pattern \"" + pat + "\" is listed twice");
        continue;
      }
      bool never = false;
      std::string why;
      size_t start = 0;
      while (start <= pat.size()) {
        size_t end = pat.find('/', start);
        if (end == std::string::npos) {
          end = pat.size();
        }
        std::string comp = pat.substr(start, end - start);
        bool literal = comp.find_first_of("*?[") == std::string::npos;
        if (comp == ".") {
          never = true;
          why = "\".\" never names a path component (the workspace walks real names)";
        } else if (literal && comp.size() > 255) {
          never = true;
          why = "a name longer than 255 bytes cannot exist";
        } else if (literal && comp.find('\\') != std::string::npos) {
          // fnmatch reads '\' as an escape, so "a\b" matches "ab"; a pattern meant literally never
          // matches a name with a backslash.
          f_.warning(where, "pattern-escape",
                     std::string(kind) + " pattern \"" + pat +
                         "\" contains '\\', which escapes the next character (it does not match a backslash)");
        }
        start = end + 1;
      }
      if (never) {
        f_.error(where, "pattern-never-matches",
                 std::string(kind) + " pattern \"" + pat + "\" can never match: " + why);
        continue;
      }
      if (policy::path_matches(pat, "")) {
        f_.warning(where, "pattern-covers-workspace",
                   std::string(kind) + " pattern \"" + pat +
                       "\" matches the workspace root itself, so it covers "
                       "the whole workspace");
      }
    }
  }

  void workspace() {
    if (!r_.workspace) {
      return;
    }
    const auto& w = *r_.workspace;
    patterns(w.protected_paths, "protected", "protected");
    patterns(w.hidden_paths, "hidden", "hidden");
    if (w.read_only && !w.protected_paths.empty()) {
      f_.warning(field("workspace.protected"), "pattern-redundant",
                 "workspace.protected has no effect: the workspace of role " + r_.name + " is read-only as a whole");
    }
    for (size_t i = 0; i < w.protected_paths.size(); ++i) {
      const std::string& pat = w.protected_paths[i];
      if (pat.find_first_of("*?[") != std::string::npos) {
        continue;
      }
      for (const auto& h : w.hidden_paths) {
        if (policy::path_matches(h, pat)) {
          f_.warning(field("workspace.protected") + "[" + std::to_string(i) + "]", "pattern-redundant",
                     "protected \"" + pat + "\" is hidden by \"" + h +
                         "\": a hidden path cannot be read either, so "
                         "protecting it has no effect");
          break;
        }
      }
    }
  }

  void backend() {
    if (host_.is_executable && !host_.is_executable(r_.backend)) {
      f_.warning(field("backend"), "backend-missing",
                 "backend " + r_.backend + " is not an executable file on this host: every container of role " +
                     r_.name + " would fail to start");
    }
  }
};

void check_policy(const policy::Policy& p, const Json& doc, const LintHost& host, Findings& f) {
  if (p.audit_log.empty()) {
    f.warning(doc.contains("auditLog") ? "auditLog" : "", "no-audit-log",
              "no auditLog: cove-runtime's decisions are not recorded anywhere");
  }
  if (p.unmatched == policy::Unmatched::kPassthrough) {
    f.warning("unmatched.action", "unmatched-passthrough",
              "unmatched.action is \"passthrough\": a container that names no role runs with no cove policy at all "
              "(no seccomp baseline, limits or audit record)");
  }
  if (host.is_executable && !host.is_executable(p.default_backend)) {
    f.warning(doc.contains("defaultBackend") ? "defaultBackend" : "", "backend-missing",
              "defaultBackend " + p.default_backend + " is not an executable file on this host");
  }
  // Role names are matched exactly: COVE_ROLE=Agent never selects "agent".
  std::map<std::string, std::string> lower;
  for (const auto& [name, role] : p.roles) {
    std::string l = name;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    auto [it, inserted] = lower.emplace(l, name);
    if (!inserted) {
      f.warning("roles." + name, "roles-differ-in-case",
                "roles \"" + it->second + "\" and \"" + name +
                    "\" differ only in case; role names are matched exactly, so one of them is probably a typo "
                    "that no container selects");
    }
  }
  for (const auto& [name, role] : p.roles) {
    RoleChecks(p, role, doc, host, f).run();
  }
}

std::optional<int64_t> read_meminfo_total() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") {
      return kib * 1024;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  int64_t v = 0;
  if (in >> v) {
    return v;
  }
  return std::nullopt;
}

}  // namespace

LintHost real_lint_host() {
  LintHost h;
  h.mem_total = read_meminfo_total();
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0) {
    h.cpus = n;
  }
  h.pid_max = read_number("/proc/sys/kernel/pid_max");
  h.is_executable = [](const std::string& path) { return ::access(path.c_str(), X_OK) == 0; };
  return h;
}

std::vector<Finding> lint_policy(const std::string& text, const std::string& file, const LintHost& host) {
  Findings f(file);
  auto doc = base::parse_jsonc(text, file);
  if (!doc) {
    std::string msg = doc.error().message();
    if (msg.rfind(file + ":", 0) == 0) {
      msg = msg.substr(file.size() + 1);
    }
    f.error("", "invalid-json", "not valid JSON: " + msg);
    return f.take();
  }
  check_duplicates(text, f);
  auto rejected = check_names(*doc, f);
  Salvaged loaded = load_with_salvage(text, file, *doc, rejected, f);
  if (loaded.policy) {
    // What salvage removed (a rejected memory object, say) is not the author's omission: the
    // loader's finding already covers it, so checks about its absence would only mislead.
    Findings semantic(file);
    check_policy(*loaded.policy, *doc, host, semantic);
    for (auto& finding : semantic.take()) {
      if (!loaded.removals.caused_by_removal(finding.path)) {
        f.add(finding.severity, finding.path, finding.check, finding.message);
      }
    }
  }
  std::vector<Finding> out = f.take();
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.path < b.path; });
  return out;
}

CLI::App* add_policy_lint(CLI::App& policy, PolicyLintOptions& o) {
  CLI::App* c = policy.add_subcommand("lint", "Check a policy file: every problem with its JSON path and a reason");
  c->add_option("FILE", o.file, "policy file (JSON with comments)")->required();
  c->add_flag("--json", o.json, "print the findings as one JSON document");
  c->add_flag("--strict", o.strict, "warnings fail too (exit 1)");
  c->add_flag("--no-host", o.no_host,
              "skip the checks against this machine (limits above its resources, missing backends)");
  return c;
}

int policy_lint(const PolicyLintOptions& o, const Io& io) {
  auto text = base::read_file(o.file);
  if (!text) {
    io.err << "cove policy lint: " << text.error().message() << '\n';
    return kExitUsage;
  }
  LintHost host = o.no_host ? LintHost{} : real_lint_host();
  std::vector<Finding> findings = lint_policy(*text, o.file, host);
  size_t errors = 0;
  size_t warnings = 0;
  for (const auto& f : findings) {
    (f.severity == Severity::kError ? errors : warnings)++;
  }
  bool failed = errors > 0 || (o.strict && warnings > 0);
  if (o.json) {
    Json j;
    j["file"] = o.file;
    j["ok"] = !failed;
    j["errors"] = errors;
    j["warnings"] = warnings;
    j["findings"] = Json::array();
    for (const auto& f : findings) {
      j["findings"].push_back(to_json(f));
    }
    io.out << j.dump(2) << '\n';
  } else {
    print_findings(io, findings);
    if (findings.empty()) {
      io.out << paint(io, Color::kGreen, o.file + ": no problems found") << '\n';
    } else {
      io.out << fmt::format("{}: {} error{}, {} warning{}\n", o.file, errors, errors == 1 ? "" : "s", warnings,
                            warnings == 1 ? "" : "s");
    }
  }
  return failed ? kExitFindings : kExitOk;
}

}  // namespace cli
