// covefs: serves a team's workspace directory to its containers. See fusefs/fs.h.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "base/journal.h"
#include "fusefs/detach.h"
#include "fusefs/fs.h"
#include "fusefs/lowlevel.h"
#include "policy/policy.h"

namespace {

base::JournalOp journal_op(fusefs::Change c) {
  using C = fusefs::Change;
  using J = base::JournalOp;
  switch (c) {
    case C::kCreate: return J::create;
    case C::kWrite: return J::write;
    case C::kTruncate: return J::truncate;
    case C::kMkdir: return J::mkdir;
    case C::kMknod: return J::mknod;
    case C::kUnlink: return J::unlink;
    case C::kRmdir: return J::rmdir;
    case C::kRename: return J::rename;
    case C::kLink: return J::link;
    case C::kSymlink: return J::symlink;
    case C::kChmod: return J::chmod;
    case C::kChown: return J::chown;
    case C::kSetxattr: return J::setxattr;
    case C::kRemovexattr: return J::removexattr;
    case C::kUtimens: return J::utimens;
  }
  return J::rescan;
}

// A group name from /etc/group, or a number.
std::optional<gid_t> parse_group(const std::string& text) {
  if (const struct group* g = ::getgrnam(text.c_str()); g != nullptr) {
    return g->gr_gid;
  }
  unsigned long gid = 0;
  size_t used = 0;
  try {
    gid = std::stoul(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size() || gid >= 0xffffffffUL) {
    return std::nullopt;
  }
  return static_cast<gid_t>(gid);
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "covefs: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"covefs: a team's workspace, served to its containers with per-role views"};
  std::string team, source, mountpoint, policy_path, journal_dir, state_dir, owner = "1000:1000";
  bool foreground = false;
  bool host_read_only = false;
  bool no_passthrough = false;
  size_t fd_cache = 4096;
  std::string quota_bytes;
  int64_t quota_inodes = 0;
  unsigned threads = 16;
  double timeout = 60.0;
  app.add_option("--team", team, "team name")->required();
  app.add_option("--source", source, "the workspace directory to serve")->required()->check(CLI::ExistingDirectory);
  // Not checked as an existing directory: a mountpoint whose covefs died answers ENOTCONN, and
  // serve() recovers it.
  app.add_option("--mountpoint", mountpoint, "where to mount it")->required();
  app.add_option("--policy", policy_path, "cove policy (role views); without it every caller gets the default view");
  app.add_option("--journal", journal_dir, "change journal directory (default /var/lib/cove/journal/<team>)");
  std::string journal_group;
  app.add_option("--journal-group", journal_group,
                 "group (name or GID) that may read the journal: directory 0750, files 0640 (default: root only)");
  app.add_option("--state-dir", state_dir, "cove-runtime's container records (default: the policy's stateDir)");
  app.add_option("--owner", owner, "owner containers see, UID:GID, or 'none' to pass ownership through");
  app.add_flag("--host-read-only", host_read_only, "host processes get a read-only view");
  app.add_option("--fd-cache", fd_cache, "open descriptors kept for inodes");
  app.add_option("--threads", threads, "request threads");
  app.add_option("--timeout", timeout,
                 "entry and attribute cache timeout, seconds (outside changes are invalidated at once)");
  app.add_flag("-f,--foreground", foreground, "stay in the foreground");
  app.add_option("--quota-bytes", quota_bytes, "disk usage limit, e.g. 20GiB (default: the policy's quotas)");
  app.add_option("--quota-inodes", quota_inodes, "inode limit (default: the policy's quotas)");
  app.add_flag("--no-passthrough", no_passthrough, "serve file data through covefs even where the kernel offers FUSE passthrough");
  CLI11_PARSE(app, argc, argv);

  // Without -f, covefs detaches before it opens anything or starts a thread (threads do not
  // survive fork(), and the journal's writer lock records the writer's pid), and the parent
  // waits until the mount is up: errors still reach the terminal and its exit status, as with
  // fuse_daemonize, which would fork only after the mount and lose the journal syncer and the
  // fanotify watcher.
  int ready_fd = -1;
  if (!foreground) {
    ready_fd = fusefs::detach_and_wait();
  }

  ::umask(0);  // modes arrive with the caller's umask applied
  std::optional<policy::Policy> pol;
  if (!policy_path.empty()) {
    auto p = policy::load_policy(policy_path);
    if (!p) {
      return fail(p.error().message());
    }
    pol = std::move(*p);
  }
  if (state_dir.empty()) {
    state_dir = pol ? pol->state_dir : "/run/cove";
  }
  if (journal_dir.empty()) {
    journal_dir = "/var/lib/cove/journal/" + team;
  }
  fusefs::FsOptions opts;
  opts.source = source;
  opts.team = team;
  opts.default_rw = !host_read_only;
  opts.fd_cache = fd_cache;
  opts.entry_timeout = timeout;
  opts.attr_timeout = timeout;
  if (pol) {
    policy::Quota q = pol->quota_for(team);
    opts.quota_bytes = q.bytes;
    opts.quota_inodes = q.inodes;
  }
  if (!quota_bytes.empty()) {
    auto b = policy::parse_size(quota_bytes);
    if (!b) {
      return fail("--quota-bytes: " + b.error().message());
    }
    opts.quota_bytes = *b;
  }
  if (quota_inodes > 0) {
    opts.quota_inodes = quota_inodes;
  }
  if (owner == "none") {
    opts.mapped_owner.reset();
  } else {
    unsigned uid = 0, gid = 0;
    if (std::sscanf(owner.c_str(), "%u:%u", &uid, &gid) != 2) {
      return fail("--owner: expected UID:GID or none, got " + owner);
    }
    opts.mapped_owner = std::make_pair(uid_t{uid}, gid_t{gid});
  }
  base::JournalOptions jopts;
  if (!journal_group.empty()) {
    auto gid = parse_group(journal_group);
    if (!gid) {
      return fail("--journal-group: no group " + journal_group);
    }
    jopts.group = *gid;
  }
  auto journal = base::JournalWriter::open(journal_dir, jopts);
  if (!journal) {
    return fail(journal.error().wrap("journal {}", journal_dir).message());
  }
  base::JournalWriter* jw = journal->get();
  if (jw->unclean_stop()) {
    // The previous covefs died: changes made on its last requests may have no record.
    std::fprintf(stderr, "covefs: the journal was not closed cleanly; asking consumers to rescan\n");
    (void)jw->append(base::JournalOp::rescan, "", "", base::Attribution{});
  }
  // Records reach the page cache at once (they survive a crash of covefs); this bounds what a
  // power loss can take to about a second.
  std::atomic<bool> serving{true};
  std::thread syncer([&] {
    while (serving.load()) {
      for (int i = 0; i < 10 && serving.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      (void)jw->sync();
    }
  });
  auto sink = [jw](fusefs::Change c, const std::string& path, const std::string& path2, const fusefs::Caller& who) {
    auto r = jw->append(journal_op(c), path, path2, base::Attribution{who.container_id, who.agent, who.role});
    if (!r) {
      std::fprintf(stderr, "covefs: journal: %s\n", r.error().message().c_str());
    }
  };
  auto fs = fusefs::Filesystem::create(opts, pol ? &*pol : nullptr, state_dir, sink);
  if (!fs) {
    serving = false;
    syncer.join();
    return fail(fs.error().message());
  }
  fusefs::MountOptions mo;
  mo.mountpoint = mountpoint;
  mo.fsname = "covefs:" + team;
  mo.max_threads = threads;
  if (ready_fd >= 0) {
    mo.on_ready = [ready_fd] { fusefs::signal_ready(ready_fd); };
  }
  mo.passthrough = !no_passthrough;
  auto r = fusefs::serve(**fs, mo);
  serving = false;
  syncer.join();
  (void)jw->sync();
  if (!r) {
    return fail(r.error().message());
  }
  const auto& c = (*fs)->counters();
  std::fprintf(stderr, "covefs: unmounted %s; refused: %lu EROFS, %lu EACCES, %lu hidden, %lu device, %lu quota\n",
               mountpoint.c_str(), static_cast<unsigned long>(c.refused_erofs.load()),
               static_cast<unsigned long>(c.refused_eacces.load()), static_cast<unsigned long>(c.refused_hidden.load()),
               static_cast<unsigned long>(c.refused_device.load()), static_cast<unsigned long>(c.refused_quota.load()));
  return 0;
}
