#include "tools/cli/policy_bpf.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>

#include "base/fd.h"
#include "base/file.h"
#include "base/jsonc.h"
#include "policy/policy.h"
#include "policy/seccomp.h"
#include "tools/cli/docker_default.h"
#include "tools/cli/seccomp_view.h"

namespace cli {

namespace {

using base::Error;
using base::Result;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Result<uint32_t> action_value(const std::string& action, int errno_ret) {
  if (action == "SCMP_ACT_ALLOW") {
    return SCMP_ACT_ALLOW;
  }
  if (action == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(static_cast<uint16_t>(errno_ret));
  }
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") {
    return SCMP_ACT_KILL_THREAD;
  }
  if (action == "SCMP_ACT_KILL_PROCESS") {
    return SCMP_ACT_KILL_PROCESS;
  }
  if (action == "SCMP_ACT_TRAP") {
    return SCMP_ACT_TRAP;
  }
  if (action == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(static_cast<uint16_t>(errno_ret));
  }
  if (action == "SCMP_ACT_LOG") {
    return SCMP_ACT_LOG;
  }
  if (action == "SCMP_ACT_NOTIFY") {
    return SCMP_ACT_NOTIFY;
  }
  return Error::make(EINVAL, "unknown seccomp action \"{}\"", action);
}

Result<scmp_compare> compare_op(const std::string& op) {
  static const std::pair<const char*, scmp_compare> kOps[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                                                              {"SCMP_CMP_LT", SCMP_CMP_LT},
                                                              {"SCMP_CMP_LE", SCMP_CMP_LE},
                                                              {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                                                              {"SCMP_CMP_GE", SCMP_CMP_GE},
                                                              {"SCMP_CMP_GT", SCMP_CMP_GT},
                                                              {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (const auto& [name, v] : kOps) {
    if (op == name) {
      return v;
    }
  }
  return Error::make(EINVAL, "unknown seccomp comparison \"{}\"", op);
}

// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64".
Result<uint32_t> arch_token(const std::string& oci) {
  std::string name = oci.rfind("SCMP_ARCH_", 0) == 0 ? oci.substr(10) : oci;
  for (auto& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) {
    return Error::make(EINVAL, "unknown seccomp architecture \"{}\"", oci);
  }
  return token;
}

Result<void> add_rule(scmp_filter_ctx ctx, const Json& rule, uint32_t default_action) {
  std::string action_name = rule.value("action", "SCMP_ACT_ALLOW");
  int errno_ret =
      rule.contains("errnoRet") && rule["errnoRet"].is_number_integer() ? rule["errnoRet"].get<int>() : EPERM;
  COVE_TRY_ASSIGN(action, action_value(action_name, errno_ret));
  if (action == default_action) {
    return {};  // libseccomp refuses a rule that repeats the default, and it would change nothing
  }
  std::vector<scmp_arg_cmp> args;
  std::set<unsigned> indices;
  bool repeated_index = false;
  if (auto a = rule.find("args"); a != rule.end() && a->is_array()) {
    for (const auto& c : *a) {
      COVE_TRY_ASSIGN(op, compare_op(c.value("op", "")));
      unsigned index = c.value("index", 0u);
      repeated_index |= !indices.insert(index).second;
      args.push_back(scmp_arg_cmp{index, op, c.value("value", uint64_t{0}), c.value("valueTwo", uint64_t{0})});
    }
  }
  for (const auto& n : rule.value("names", Json::array())) {
    if (!n.is_string()) {
      continue;
    }
    std::string name = n.get<std::string>();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      continue;  // unknown to this libseccomp: runc skips it too
    }
    auto add = [&](const scmp_arg_cmp* cmp, unsigned count) -> Result<void> {
      int rc = seccomp_rule_add_array(ctx, action, nr, count, cmp);
      if (rc < 0) {
        return Error::make(-rc, "add seccomp rule for {}: {}", name, std::strerror(-rc));
      }
      return {};
    };
    if (repeated_index) {
      // Two conditions on one argument cannot share a rule; runc adds one rule per condition.
      for (const auto& cmp : args) {
        COVE_TRY(add(&cmp, 1));
      }
    } else {
      COVE_TRY(add(args.data(), static_cast<unsigned>(args.size())));
    }
  }
  return {};
}

Result<std::string> export_filter(scmp_filter_ctx ctx, BpfFormat format) {
  base::Fd fd(::memfd_create("cove-seccomp-export", MFD_CLOEXEC));
  if (fd.get() < 0) {
    return Error::sys("memfd_create");
  }
  int rc = format == BpfFormat::kPfc ? seccomp_export_pfc(ctx, fd.get()) : seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) {
    return Error::make(-rc, "libseccomp export: {}", std::strerror(-rc));
  }
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) {
    return Error::sys("lseek");
  }
  return base::read_fd(fd.get());
}

// The caller's profile to merge with: a config.json (its linux.seccomp) or a bare profile.
Result<Json> caller_profile(const std::string& path) {
  COVE_TRY_ASSIGN(text, base::read_file(path));
  COVE_TRY_ASSIGN(doc, base::parse_json(text, path));
  if (doc.contains("linux") && doc["linux"].is_object()) {
    if (doc["linux"].contains("seccomp")) {
      return Json(doc["linux"]["seccomp"]);
    }
    return Json();  // a spec without a profile
  }
  if (doc.is_object() && doc.contains("defaultAction")) {
    return Json(doc);
  }
  return Error::make(EINVAL, "{}: neither a config.json nor a seccomp profile (no linux.seccomp, no defaultAction)",
                     path);
}

}  // namespace

Result<std::string> compile_seccomp(const Json& profile, BpfFormat format) {
  std::string default_name = profile.value("defaultAction", "SCMP_ACT_ALLOW");
  int default_errno = profile.contains("defaultErrnoRet") && profile["defaultErrnoRet"].is_number_integer()
                          ? profile["defaultErrnoRet"].get<int>()
                          : EPERM;
  COVE_TRY_ASSIGN(default_action, action_value(default_name, default_errno));
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) {
    return Error::make(EINVAL, "seccomp_init failed");
  }
  // runc leaves no-new-privileges to the process spec; the attribute only matters when loading.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& a : profile.value("architectures", Json::array())) {
    if (!a.is_string()) {
      continue;
    }
    COVE_TRY_ASSIGN(token, arch_token(a.get<std::string>()));
    int rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST) {
      return Error::make(-rc, "add architecture {}: {}", a.get<std::string>(), std::strerror(-rc));
    }
  }
  for (const auto& rule : profile.value("syscalls", Json::array())) {
    if (rule.is_object()) {
      COVE_TRY(add_rule(ctx.get(), rule, default_action));
    }
  }
  return export_filter(ctx.get(), format);
}

CLI::App* add_policy_bpf(CLI::App& policy, PolicyBpfOptions& o) {
  CLI::App* c = policy.add_subcommand("bpf", "The role's seccomp filter compiled by libseccomp (pfc text or raw BPF)");
  c->add_option("FILE", o.file, "policy file")->required();
  c->add_option("--role", o.role, "the role")->required();
  c->add_option("--format", o.format, "pfc (readable pseudo code, default) or bpf (the raw program)")
      ->check(CLI::IsMember({"pfc", "bpf"}));
  c->add_option("--merge-with", o.merge_with,
                "merge with the caller's profile in this config.json or profile file first, as cove-runtime does");
  return c;
}

int policy_bpf(const PolicyBpfOptions& o, const Io& io) {
  auto p = policy::load_policy(o.file);
  if (!p) {
    io.err << "cove policy bpf: " << p.error().message() << '\n';
    return kExitUsage;
  }
  const policy::Role* role = p->find_role(o.role);
  if (role == nullptr) {
    io.err << "cove policy bpf: " << o.file << " has no role \"" << o.role << "\" (roles: " << p->role_names() << ")\n";
    return kExitUsage;
  }
  Json profile;
  if (o.merge_with.empty()) {
    profile = policy::baseline_profile(role->seccomp.deny);
  } else {
    auto caller = caller_profile(o.merge_with);
    if (!caller) {
      io.err << "cove policy bpf: " << caller.error().message() << '\n';
      return kExitUsage;
    }
    profile = policy::merge_seccomp(*caller, role->seccomp.deny);
  }
  BpfFormat format = o.format == "bpf" ? BpfFormat::kBpf : BpfFormat::kPfc;
  auto out = compile_seccomp(profile, format);
  if (!out) {
    io.err << "cove policy bpf: role " << o.role << ": " << out.error().message() << '\n';
    return kExitUsage;
  }
  if (format == BpfFormat::kPfc) {
    // A header in PFC comment syntax: a denial is the absence of an allow rule, so the filter
    // itself never names what it denies.
    SeccompView view(profile);
    SeccompDelta delta = compare_seccomp(SeccompView(docker_default_seccomp()), view);
    io.out << "# cove policy bpf: role " << o.role << " of policy " << p->digest << '\n';
    io.out << "# default action: " << view.default_action_text() << '\n';
    io.out << "# denied although Docker's default allows: " << list_or_none(delta.stricter) << '\n';
    io.out << "# allowed although Docker's default denies: " << list_or_none(delta.looser) << '\n';
    io.out << "# role's own denials (seccomp.deny): " << list_or_none(role->seccomp.deny) << '\n';
    if (!o.merge_with.empty()) {
      io.out << "# merged with the profile of " << o.merge_with << '\n';
    }
  }
  io.out << *out;
  io.out.flush();
  return kExitOk;
}

}  // namespace cli
