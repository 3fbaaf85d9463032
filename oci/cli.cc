#include "oci/cli.h"

#include <algorithm>
#include <array>

namespace oci {

namespace {

struct FlagSpec {
  std::string_view name;   // canonical long name
  std::string_view alias;  // single-letter alias or ""
  bool takes_value;
};

struct VerbSpec {
  std::string_view verb;
  VerbClass cls;
  std::vector<FlagSpec> flags;
};

// runc 1.1.5 `runc VERB --help`, verb by verb.
const std::vector<VerbSpec>& verb_table() {
  static const std::vector<VerbSpec> table = {
      {"create", VerbClass::kCreate,
       {{"bundle", "b", true}, {"console-socket", "", true}, {"pid-file", "", true},
        {"no-pivot", "", false}, {"no-new-keyring", "", false}, {"preserve-fds", "", true}}},
      {"run", VerbClass::kCreate,
       {{"bundle", "b", true}, {"console-socket", "", true}, {"detach", "d", false},
        {"keep", "", false}, {"pid-file", "", true}, {"no-subreaper", "", false},
        {"no-pivot", "", false}, {"no-new-keyring", "", false}, {"preserve-fds", "", true}}},
      {"restore", VerbClass::kCreate,
       {{"console-socket", "", true}, {"image-path", "", true}, {"work-path", "", true},
        {"tcp-established", "", false}, {"ext-unix-sk", "", false}, {"shell-job", "", false},
        {"file-locks", "", false}, {"manage-cgroups-mode", "", true}, {"bundle", "b", true},
        {"detach", "d", false}, {"pid-file", "", true}, {"no-subreaper", "", false},
        {"no-pivot", "", false}, {"empty-ns", "", true}, {"auto-dedup", "", false},
        {"lazy-pages", "", false}, {"lsm-profile", "", true}, {"lsm-mount-context", "", true}}},
      {"exec", VerbClass::kExec,
       {{"console-socket", "", true}, {"cwd", "", true}, {"env", "e", true}, {"tty", "t", false},
        {"user", "u", true}, {"additional-gids", "g", true}, {"process", "p", true},
        {"detach", "d", false}, {"pid-file", "", true}, {"process-label", "", true},
        {"apparmor", "", true}, {"no-new-privs", "", false}, {"cap", "c", true},
        {"preserve-fds", "", true}, {"cgroup", "", true}, {"ignore-paused", "", false}}},
      {"update", VerbClass::kUpdate,
       {{"resources", "r", true}, {"blkio-weight", "", true}, {"cpu-period", "", true},
        {"cpu-quota", "", true}, {"cpu-share", "", true}, {"cpu-rt-period", "", true},
        {"cpu-rt-runtime", "", true}, {"cpuset-cpus", "", true}, {"cpuset-mems", "", true},
        {"kernel-memory", "", true}, {"kernel-memory-tcp", "", true}, {"memory", "", true},
        {"cpu-idle", "", true}, {"memory-reservation", "", true}, {"memory-swap", "", true},
        {"pids-limit", "", true}, {"l3-cache-schema", "", true}, {"mem-bw-schema", "", true}}},
      {"start", VerbClass::kPassthrough, {}},
      {"state", VerbClass::kPassthrough, {}},
      {"kill", VerbClass::kPassthrough, {{"all", "a", false}}},
      {"delete", VerbClass::kPassthrough, {{"force", "f", false}}},
      {"ps", VerbClass::kPassthrough, {{"format", "f", true}}},
      {"pause", VerbClass::kPassthrough, {}},
      {"resume", VerbClass::kPassthrough, {}},
      {"events", VerbClass::kPassthrough, {{"interval", "", true}, {"stats", "", false}}},
      {"list", VerbClass::kPassthrough, {{"format", "f", true}, {"quiet", "q", false}}},
      {"features", VerbClass::kPassthrough, {}},
      {"spec", VerbClass::kPassthrough, {{"bundle", "b", true}, {"rootless", "", false}}},
      {"checkpoint", VerbClass::kPassthrough,
       {{"image-path", "", true}, {"work-path", "", true}, {"parent-path", "", true},
        {"leave-running", "", false}, {"tcp-established", "", false}, {"ext-unix-sk", "", false},
        {"shell-job", "", false}, {"lazy-pages", "", false}, {"status-fd", "", true},
        {"page-server", "", true}, {"file-locks", "", false}, {"pre-dump", "", false},
        {"manage-cgroups-mode", "", true}, {"empty-ns", "", true}, {"auto-dedup", "", false}}},
      {"help", VerbClass::kPassthrough, {}},
  };
  return table;
}

constexpr std::array<FlagSpec, 9> kGlobalFlags = {{{"debug", "", false},
                                                   {"log", "", true},
                                                   {"log-format", "", true},
                                                   {"root", "", true},
                                                   {"criu", "", true},
                                                   {"systemd-cgroup", "", false},
                                                   {"rootless", "", true},
                                                   {"help", "h", false},
                                                   {"version", "v", false}}};

constexpr std::array<std::string_view, 3> kCoveFlags = {"cove-policy", "cove-role", "cove-state-dir"};

const FlagSpec* find_flag(const std::vector<FlagSpec>& specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name || (!s.alias.empty() && s.alias == name)) {
      return &s;
    }
  }
  return nullptr;
}

// Splits "-x", "--x", "--x=v" into (name, value). Returns false for positionals ("x", "-", "").
bool split_flag(std::string_view word, std::string_view& name, std::optional<std::string_view>& value) {
  if (word.size() < 2 || word[0] != '-' || word == "--") {
    return false;
  }
  word.remove_prefix(word[1] == '-' ? 2 : 1);
  if (word.empty() || word[0] == '-' || word[0] == '=') {
    return false;
  }
  auto eq = word.find('=');
  if (eq == std::string_view::npos) {
    name = word;
    value.reset();
  } else {
    name = word.substr(0, eq);
    value = word.substr(eq + 1);
  }
  return true;
}

bool is_bool_literal(std::string_view v) {
  return v == "true" || v == "false" || v == "1" || v == "0" || v == "t" || v == "f" ||
         v == "TRUE" || v == "FALSE" || v == "True" || v == "False" || v == "T" || v == "F";
}

}  // namespace

bool is_known_verb(std::string_view verb) {
  const auto& t = verb_table();
  return std::any_of(t.begin(), t.end(), [&](const VerbSpec& v) { return v.verb == verb; });
}

VerbClass Invocation::verb_class() const {
  for (const auto& v : verb_table()) {
    if (v.verb == verb) {
      return v.cls;
    }
  }
  return VerbClass::kPassthrough;
}

std::optional<std::string> Invocation::flag(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& f : flags) {
    if (f.name == name) {
      out = f.value;
    }
  }
  return out;
}

std::vector<std::string> Invocation::flag_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& f : flags) {
    if (f.name == name) {
      out.push_back(f.value);
    }
  }
  return out;
}

std::optional<std::string> Invocation::global(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& f : globals) {
    if (f.name == name) {
      out = f.value;
    }
  }
  return out;
}

base::Result<Invocation> parse_invocation(const std::vector<std::string>& argv) {
  Invocation inv;
  if (argv.empty()) {
    return base::Error::make(EINVAL, "empty argument vector");
  }
  inv.backend_argv.push_back(argv[0]);
  size_t i = 1;
  // Global flags (and cove's own) up to the verb.
  while (i < argv.size()) {
    std::string_view name;
    std::optional<std::string_view> value;
    if (argv[i] == "--") {
      inv.backend_argv.push_back(argv[i]);
      ++i;
      break;
    }
    if (!split_flag(argv[i], name, value)) {
      break;
    }
    if (std::find(kCoveFlags.begin(), kCoveFlags.end(), name) != kCoveFlags.end()) {
      std::string v;
      if (value) {
        v = std::string(*value);
        ++i;
      } else {
        if (i + 1 >= argv.size()) {
          return base::Error::make(EINVAL, "flag --{} needs a value", name);
        }
        v = argv[i + 1];
        i += 2;
      }
      if (name == "cove-policy") {
        inv.cove_policy = v;
      } else if (name == "cove-role") {
        inv.cove_role = v;
      } else {
        inv.cove_state_dir = v;
      }
      continue;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& g : kGlobalFlags) {
      if (g.name == name || (!g.alias.empty() && g.alias == name)) {
        spec = &g;
      }
    }
    Flag f;
    f.index = inv.backend_argv.size();
    inv.backend_argv.push_back(argv[i]);
    if (spec == nullptr) {
      if (!value) {
        return base::Error::make(EINVAL,
                                 "unknown global flag '{}' (cove knows runc 1.1's global flags; "
                                 "write unknown ones as --name=value)",
                                 argv[i]);
      }
      f.name = std::string(name);
      f.value = std::string(*value);
      f.has_explicit_value = true;
      ++i;
    } else if (spec->takes_value) {
      f.name = std::string(spec->name);
      if (value) {
        f.value = std::string(*value);
        f.has_explicit_value = true;
        ++i;
      } else {
        if (i + 1 >= argv.size()) {
          return base::Error::make(EINVAL, "flag {} needs a value", argv[i]);
        }
        f.value = argv[i + 1];
        inv.backend_argv.push_back(argv[i + 1]);
        i += 2;
      }
    } else {
      f.name = std::string(spec->name);
      f.value = value ? std::string(*value) : "true";
      f.has_explicit_value = value.has_value();
      ++i;
    }
    inv.globals.push_back(std::move(f));
  }
  if (i >= argv.size()) {
    return inv;
  }
  inv.verb = argv[i];
  inv.backend_argv.push_back(argv[i]);
  ++i;
  const VerbSpec* vs = nullptr;
  for (const auto& v : verb_table()) {
    if (v.verb == inv.verb) {
      vs = &v;
    }
  }
  if (vs == nullptr) {
    // Unknown verb: the backend will say so; keep the rest verbatim.
    for (; i < argv.size(); ++i) {
      inv.positionals.push_back(argv[i]);
      inv.backend_argv.push_back(argv[i]);
    }
    return inv;
  }
  bool policed = vs->cls != VerbClass::kPassthrough;
  static const std::vector<FlagSpec> kHelp = {{"help", "h", false}};
  while (i < argv.size()) {
    std::string_view name;
    std::optional<std::string_view> value;
    if (argv[i] == "--") {
      inv.backend_argv.push_back(argv[i]);
      ++i;
      break;
    }
    if (!split_flag(argv[i], name, value)) {
      break;
    }
    const FlagSpec* spec = find_flag(vs->flags, name);
    if (spec == nullptr) {
      spec = find_flag(kHelp, name);
    }
    Flag f;
    f.index = inv.backend_argv.size();
    inv.backend_argv.push_back(argv[i]);
    if (spec == nullptr) {
      if (policed) {
        return base::Error::make(EINVAL, "unknown flag '{}' for '{}' (cove knows runc 1.1's flags)",
                                 argv[i], inv.verb);
      }
      f.name = std::string(name);
      f.value = value ? std::string(*value) : "true";
      f.has_explicit_value = value.has_value();
      ++i;
    } else if (spec->takes_value) {
      f.name = std::string(spec->name);
      if (value) {
        f.value = std::string(*value);
        f.has_explicit_value = true;
        ++i;
      } else {
        if (i + 1 >= argv.size()) {
          return base::Error::make(EINVAL, "flag {} of '{}' needs a value", argv[i], inv.verb);
        }
        f.value = argv[i + 1];
        f.has_explicit_value = true;
        inv.backend_argv.push_back(argv[i + 1]);
        i += 2;
      }
    } else {
      f.name = std::string(spec->name);
      if (value && !is_bool_literal(*value)) {
        return base::Error::make(EINVAL, "invalid boolean value '{}' for flag {}", *value, argv[i]);
      }
      f.value = value ? std::string(*value) : "true";
      f.has_explicit_value = value.has_value();
      ++i;
    }
    inv.flags.push_back(std::move(f));
  }
  if (i < argv.size()) {
    inv.id_index = inv.backend_argv.size();
  }
  // urfave/cli v1 moves flags written after the positionals in front of them (reorderArgs), so
  // `runc delete ID --force` works; runc's exec turns that off (SkipArgReorder) because the
  // command's own flags follow the ID.
  bool reorder = inv.verb != "exec";
  bool after_dashdash = false;
  for (; i < argv.size(); ++i) {
    std::string_view name;
    std::optional<std::string_view> value;
    if (reorder && !after_dashdash && argv[i] == "--") {
      after_dashdash = true;
    } else if (reorder && !after_dashdash && split_flag(argv[i], name, value)) {
      const FlagSpec* spec = find_flag(vs->flags, name);
      if (spec == nullptr) {
        spec = find_flag(kHelp, name);
      }
      if (spec == nullptr && policed) {
        return base::Error::make(EINVAL, "unknown flag '{}' for '{}' (cove knows runc 1.1's flags)",
                                 argv[i], inv.verb);
      }
      Flag f;
      f.index = inv.backend_argv.size();
      f.name = spec != nullptr ? std::string(spec->name) : std::string(name);
      inv.backend_argv.push_back(argv[i]);
      if (value) {
        f.value = std::string(*value);
        f.has_explicit_value = true;
      } else if (spec != nullptr && spec->takes_value) {
        if (i + 1 >= argv.size()) {
          return base::Error::make(EINVAL, "flag {} of '{}' needs a value", argv[i], inv.verb);
        }
        f.value = argv[++i];
        f.has_explicit_value = true;
        inv.backend_argv.push_back(argv[i]);
      } else {
        f.value = "true";
      }
      inv.flags.push_back(std::move(f));
      continue;
    }
    inv.positionals.push_back(argv[i]);
    inv.backend_argv.push_back(argv[i]);
  }
  return inv;
}

}  // namespace oci
