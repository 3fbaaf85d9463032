#include "shim/shim.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fd.h"
#include "base/file.h"

namespace shim {

base::Result<const policy::Policy*> Context::load_policy() {
  if (!policy) {
    COVE_TRY_ASSIGN(p, policy::load_policy(policy_path));
    policy = std::move(p);
  }
  return &*policy;
}

std::string Context::state_dir() {
  if (inv.cove_state_dir) {
    return *inv.cove_state_dir;
  }
  if (const char* env = std::getenv("COVE_STATE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (auto p = load_policy(); p) {
    return (*p)->state_dir;
  }
  return "/run/cove";
}

std::string Context::runtime_root(const std::string& backend) const {
  if (auto root = inv.global("root")) {
    return *root;
  }
  // The backends' compiled-in defaults for root (rootless setups use $XDG_RUNTIME_DIR instead,
  // and always pass --root under Docker and containerd).
  if (backend.find("crun") != std::string::npos) {
    return "/run/crun";
  }
  return "/run/runc";
}

int refuse(Context& ctx, const std::string& msg) {
  base::log_error(ctx.log_path, ctx.log_format, "cove: " + msg);
  // Like runc's fatal(): the error also goes to stderr, which is what containerd reports for
  // verbs whose --log it does not read (update, exec without a pid file).
  if (!ctx.log_path.empty()) {
    std::string line = "cove: " + msg + "\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  }
  return 1;
}

base::Result<void> write_audit(Context& ctx, const std::string& line) {
  if (!ctx.policy || ctx.policy->audit_log.empty()) {
    return {};
  }
  const std::string& path = ctx.policy->audit_log;
  auto r = base::append_line(path, line);
  if (!r && r.error().code() == ENOENT) {
    // First decision on this host: create the log's directory.
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      COVE_TRY(base::make_dirs(path.substr(0, slash), 0750));
    }
    r = base::append_line(path, line);
  }
  if (!r) {
    return r.error().wrap("write audit log (policy {} auditLog)", ctx.policy->path);
  }
  return {};
}

std::string backend_for(Context& ctx, const std::optional<ContainerRecord>& rec) {
  if (rec && !rec->backend.empty()) {
    return rec->backend;
  }
  if (auto p = ctx.load_policy(); p) {
    return (*p)->default_backend;
  }
  // A broken policy must not make containers undeletable: fall back to runc.
  return "/usr/bin/runc";
}

int exec_backend(Context& ctx, const std::string& backend) {
  if (ctx.stdin_bytes) {
    // Give the backend back the bytes cove read from stdin, as a sealed-size memfd.
    base::Fd mem(::memfd_create("cove-stdin", MFD_CLOEXEC));
    if (!mem.valid()) {
      return refuse(ctx, "memfd_create for stdin: " + std::string(std::strerror(errno)));
    }
    const std::string& b = *ctx.stdin_bytes;
    if (::write(mem.get(), b.data(), b.size()) != static_cast<ssize_t>(b.size()) ||
        ::lseek(mem.get(), 0, SEEK_SET) != 0 || ::dup2(mem.get(), STDIN_FILENO) < 0) {
      return refuse(ctx, "pass stdin to backend: " + std::string(std::strerror(errno)));
    }
  }
  std::vector<char*> argv;
  argv.reserve(ctx.inv.backend_argv.size() + 1);
  std::string argv0 = backend;
  argv.push_back(argv0.data());
  for (size_t i = 1; i < ctx.inv.backend_argv.size(); ++i) {
    argv.push_back(ctx.inv.backend_argv[i].data());
  }
  argv.push_back(nullptr);
  ::execv(backend.c_str(), argv.data());
  return refuse(ctx, "exec backend " + backend + ": " + std::strerror(errno));
}

int run_passthrough(Context& ctx) {
  std::optional<ContainerRecord> rec;
  std::string id = ctx.inv.id();
  if (!id.empty() && ctx.inv.verb != "spec" && ctx.inv.verb != "list" && ctx.inv.verb != "features") {
    auto r = load_record(ctx.state_dir(), id);
    if (r) {
      rec = std::move(*r);
    }
  }
  return exec_backend(ctx, backend_for(ctx, rec));
}

namespace {

// Finds --log and --log-format before the grammar is known to parse, so that even an argv cove
// cannot parse gets its error where Docker looks.
void scan_log_flags(const std::vector<std::string>& argv, Context& ctx) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    for (const char* name : {"--log", "-log", "--log-format", "-log-format"}) {
      std::string n = name;
      std::string value;
      if (a == n && i + 1 < argv.size()) {
        value = argv[i + 1];
      } else if (a.compare(0, n.size() + 1, n + "=") == 0) {
        value = a.substr(n.size() + 1);
      } else {
        continue;
      }
      if (n.find("format") != std::string::npos) {
        ctx.log_format = value == "json" ? base::LogFormat::kJson : base::LogFormat::kText;
      } else {
        ctx.log_path = value;
      }
    }
    if (oci::is_known_verb(a)) {
      break;
    }
  }
}

}  // namespace

int run(const std::vector<std::string>& argv) {
  Context ctx;
  scan_log_flags(argv, ctx);
  auto inv = oci::parse_invocation(argv);
  if (!inv) {
    return refuse(ctx, inv.error().message());
  }
  ctx.inv = std::move(*inv);
  if (auto log = ctx.inv.global("log")) {
    ctx.log_path = *log;
  }
  if (auto fmt = ctx.inv.global("log-format")) {
    ctx.log_format = *fmt == "json" ? base::LogFormat::kJson : base::LogFormat::kText;
  }
  if (ctx.inv.cove_policy) {
    ctx.policy_path = *ctx.inv.cove_policy;
  } else if (const char* env = std::getenv("COVE_POLICY"); env != nullptr && *env != '\0') {
    ctx.policy_path = env;
  } else {
    ctx.policy_path = policy::kDefaultPolicyPath;
  }
  switch (ctx.inv.verb_class()) {
    case oci::VerbClass::kCreate:
      return run_create(ctx);
    case oci::VerbClass::kExec:
      return run_exec(ctx);
    case oci::VerbClass::kUpdate:
      return run_update(ctx);
    case oci::VerbClass::kPassthrough:
      return run_passthrough(ctx);
  }
  return run_passthrough(ctx);
}

}  // namespace shim
