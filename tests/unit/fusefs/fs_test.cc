// The safety guarantees of covefs' core, on a real source directory without a FUSE mount: the
// kernel would not send these requests in this order through a mount (it follows the symlink
// first), but a host user racing a container can make it happen, so the core must hold alone.
#include "fusefs/fs.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

struct Tree {
  std::string dir;
  std::string src;
  std::string outside;
  Tree() {
    char tmpl[] = "/tmp/cove-fs-XXXXXX";
    dir = ::mkdtemp(tmpl);
    src = dir + "/src";
    outside = dir + "/outside";
    ::mkdir(src.c_str(), 0755);
    std::ofstream(outside) << "host secret";
    ::chmod(outside.c_str(), 0600);
  }
  ~Tree() { std::system(("rm -rf " + dir).c_str()); }
  std::string read_outside() const {
    std::ifstream f(outside);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

std::unique_ptr<fusefs::Filesystem> make_fs(const Tree& t) {
  fusefs::FsOptions o;
  o.source = t.src;
  o.team = "alpha";
  o.mapped_owner.reset();
  auto fs = fusefs::Filesystem::create(o, nullptr, t.dir + "/state", nullptr);
  EXPECT_TRUE(fs) << (fs ? "" : fs.error().message());
  return std::move(*fs);
}

fusefs::Requester host() { return fusefs::Requester{0, 0, ::getpid()}; }

TEST(FsSafety, CreateNeverFollowsAPlantedSymlink) {
  Tree t;
  auto fs = make_fs(t);
  ASSERT_EQ(::symlink(t.outside.c_str(), (t.src + "/newfile").c_str()), 0);
  auto r = fs->create_file(host(), fusefs::InodeTable::kRootId, "newfile", 0644, O_WRONLY | O_TRUNC);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ELOOP);
  EXPECT_EQ(t.read_outside(), "host secret");
}

TEST(FsSafety, SetattrOnASymlinkNeverReachesItsTarget) {
  Tree t;
  auto fs = make_fs(t);
  ASSERT_EQ(::symlink(t.outside.c_str(), (t.src + "/link").c_str()), 0);
  auto e = fs->lookup(host(), fusefs::InodeTable::kRootId, "link");
  ASSERT_TRUE(e) << e.error().message();
  struct stat want {};
  want.st_size = 0;
  auto trunc = fs->setattr(host(), e->ino, want, FUSE_SET_ATTR_SIZE, nullptr);
  EXPECT_FALSE(trunc);
  want.st_mode = 0777;
  EXPECT_FALSE(fs->setattr(host(), e->ino, want, FUSE_SET_ATTR_MODE, nullptr));
  want.st_uid = 1234;
  want.st_gid = 1234;
  ASSERT_TRUE(fs->setattr(host(), e->ino, want, FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID, nullptr));
  struct stat out {};
  ASSERT_EQ(::stat(t.outside.c_str(), &out), 0);
  EXPECT_EQ(out.st_uid, 0u);
  EXPECT_EQ(out.st_mode & 0777, 0600u);
  EXPECT_EQ(t.read_outside(), "host secret");
  struct stat link {};
  ASSERT_EQ(::lstat((t.src + "/link").c_str(), &link), 0);
  EXPECT_EQ(link.st_uid, 1234u);
}

TEST(FsSafety, OpeningASymlinkInodeNeverOpensItsTarget) {
  Tree t;
  auto fs = make_fs(t);
  ASSERT_EQ(::symlink(t.outside.c_str(), (t.src + "/link").c_str()), 0);
  auto e = fs->lookup(host(), fusefs::InodeTable::kRootId, "link");
  ASSERT_TRUE(e);
  auto h = fs->open(host(), e->ino, O_WRONLY | O_TRUNC);
  EXPECT_FALSE(h);
  EXPECT_EQ(t.read_outside(), "host secret");
}

TEST(FsSafety, NamesWithSlashesOrDotsAreRefused) {
  Tree t;
  auto fs = make_fs(t);
  EXPECT_FALSE(fs->mkdir(host(), fusefs::InodeTable::kRootId, "../escape", 0755));
  EXPECT_FALSE(fs->mkdir(host(), fusefs::InodeTable::kRootId, "..", 0755));
  struct stat st {};
  EXPECT_NE(::stat((t.dir + "/escape").c_str(), &st), 0);
}

// A filesystem whose journal records land in `seen` as "<change>:<path>><path2>".
std::unique_ptr<fusefs::Filesystem> make_journaling_fs(const Tree& t, std::vector<std::string>& seen) {
  fusefs::FsOptions o;
  o.source = t.src;
  o.mapped_owner.reset();
  auto made = fusefs::Filesystem::create(o, nullptr, t.dir + "/state",
                                        [&seen](fusefs::Change c, const std::string& p, const std::string& p2,
                                                const fusefs::Caller&) {
                                          seen.push_back(std::to_string(static_cast<int>(c)) + ":" + p + ">" + p2);
                                        });
  return made ? std::move(*made) : nullptr;
}

TEST(FsJournal, MutationsAreReportedWithPaths) {
  Tree t;
  std::vector<std::string> seen;
  auto fs = make_journaling_fs(t, seen);
  ASSERT_TRUE(fs);
  auto d = fs->mkdir(host(), fusefs::InodeTable::kRootId, "src", 0755);
  ASSERT_TRUE(d);
  auto f = fs->create_file(host(), d->ino, "a.ts", 0644, O_WRONLY);
  ASSERT_TRUE(f);
  fs->wrote(*f->second);
  fs->wrote(*f->second);
  fs->release(*f->second);
  ASSERT_TRUE(fs->rename(host(), d->ino, "a.ts", d->ino, "b.ts", 0));
  ASSERT_TRUE(fs->unlink(host(), d->ino, "b.ts"));
  using C = fusefs::Change;
  auto key = [](C c, const std::string& s) { return std::to_string(static_cast<int>(c)) + ":" + s; };
  // The create record stands for the first write through the new handle; the writes after it
  // are journaled once at release.
  std::vector<std::string> want = {key(C::kMkdir, "src>"), key(C::kCreate, "src/a.ts>"), key(C::kWrite, "src/a.ts>"),
                                   key(C::kRename, "src/a.ts>src/b.ts"),
                                   key(C::kUnlink, "src/b.ts>")};
  EXPECT_EQ(seen, want);
}

TEST(FsJournal, CloseJournalsWritesBeforeItReturns) {
  // FLUSH (which close(2) waits for) records the writes since the last record; RELEASE, which
  // the kernel sends later, adds one only for a passthrough handle, which may still be written
  // through a mapping or another descriptor.
  Tree t;
  std::vector<std::string> seen;
  auto fs = make_journaling_fs(t, seen);
  ASSERT_TRUE(fs);
  using C = fusefs::Change;
  auto key = [](C c, const std::string& s) { return std::to_string(static_cast<int>(c)) + ":" + s + ">"; };

  auto f = fs->create_file(host(), fusefs::InodeTable::kRootId, "a.txt", 0644, O_WRONLY);
  ASSERT_TRUE(f);
  fs->wrote(*f->second);
  fs->flushed(*f->second);
  EXPECT_EQ(seen, (std::vector<std::string>{key(C::kCreate, "a.txt"), key(C::kWrite, "a.txt")}));
  fs->flushed(*f->second);  // nothing written since
  fs->release(*f->second);
  EXPECT_EQ(seen.size(), 2u);

  seen.clear();
  auto g = fs->create_file(host(), fusefs::InodeTable::kRootId, "b.txt", 0644, O_WRONLY);
  ASSERT_TRUE(g);
  g->second->backing_id = 1;  // as offer_passthrough leaves it
  fs->wrote(*g->second);
  fs->flushed(*g->second);
  fs->release(*g->second);
  EXPECT_EQ(seen, (std::vector<std::string>{key(C::kCreate, "b.txt"), key(C::kWrite, "b.txt"), key(C::kWrite, "b.txt")}));
}

}  // namespace
