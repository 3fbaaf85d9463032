#include "base/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "base/file.h"
#include "tests/unit/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using base::Attribution;
using base::JournalOp;
using base::JournalOptions;
using base::JournalReader;
using base::JournalRecord;
using base::JournalWriter;

/// Named for the journal, so a leftover directory says which test left it.
class TempDir : public cove_test::TempDir {
 public:
  TempDir() : cove_test::TempDir("cove-journal-test") {}
};

const Attribution kAgent{"3f2a9c", "a1", "agent"};

std::unique_ptr<JournalWriter> open_writer(const std::string& dir, JournalOptions opts = {}) {
  auto w = JournalWriter::open(dir, opts);
  EXPECT_TRUE(w) << (w ? "" : w.error().message());
  return w ? std::move(*w) : nullptr;
}

std::unique_ptr<JournalReader> open_reader(const std::string& dir) {
  auto r = JournalReader::open(dir);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? std::move(*r) : nullptr;
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every byte of every segment is part of a whole, decodable line; returns the lines' seqs.
std::vector<uint64_t> check_whole_lines(const std::string& dir) {
  std::vector<uint64_t> seqs;
  for (const std::string& f : segment_files(dir)) {
    std::string text = *base::read_file(f);
    EXPECT_TRUE(text.empty() || text.back() == '\n') << f << " ends in a partial line";
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) {
        break;
      }
      auto rec = base::decode(std::string_view(text).substr(start, nl - start));
      EXPECT_TRUE(rec) << f << ": " << (rec ? "" : rec.error().message());
      if (rec) {
        seqs.push_back(rec->seq);
      }
      start = nl + 1;
    }
  }
  return seqs;
}

void append_raw(const std::string& path, std::string_view bytes) {
  base::Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// ---- codec ----------------------------------------------------------------------------------

struct Access {
  mode_t mode;
  gid_t gid;
};

Access access_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return Access{st.st_mode & 07777, st.st_gid};
}

TEST(JournalAccess, AReadersGroupOpensTheJournalToItAndOnlyToIt) {
  TempDir t;
  std::string dir = t.path() + "/j";
  JournalOptions small;
  small.segment_bytes = 200;  // a few records per segment: new segments during the test
  {
    auto w = open_writer(dir, small);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->append(JournalOp::create, "a", "", kAgent));
  }
  EXPECT_EQ(access_of(dir).mode, 0700u);
  EXPECT_EQ(access_of(dir + "/writer.lock").mode, 0600u);

  // Reopened with a group: what exists is opened to it, and so is every new segment.
  const gid_t group = 4321;
  JournalOptions grouped = small;
  grouped.group = group;
  {
    auto w = open_writer(dir, grouped);
    ASSERT_TRUE(w);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(w->append(JournalOp::write, "src/file-" + std::to_string(i), "", kAgent));
    }
  }
  EXPECT_EQ(access_of(dir).mode, 0750u);
  EXPECT_EQ(access_of(dir).gid, group);
  size_t segments = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    Access a = access_of(e.path().string());
    EXPECT_EQ(a.mode, 0640u) << e.path();
    EXPECT_EQ(a.gid, group) << e.path();
    segments += e.path().extension() == ".log" ? 1 : 0;
  }
  EXPECT_GT(segments, 2u);

  // Without the group again: back to the writer's user only.
  {
    auto w = open_writer(dir, small);
    ASSERT_TRUE(w);
  }
  EXPECT_EQ(access_of(dir).mode, 0700u);
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(access_of(e.path().string()).mode, 0600u) << e.path();
  }
}

TEST(JournalCodec, EncodesTheDocumentedLine) {
  JournalRecord r{
      12, 1732430000123456789, JournalOp::rename, "src/a.ts", "src/b.ts", "3f2a..", "a1", "agent"};
  EXPECT_EQ(
      base::encode(r),
      "{\"seq\":12,\"t\":1732430000123456789,\"op\":\"rename\",\"path\":\"src/a.ts\","
      "\"path2\":\"src/b.ts\",\"container\":\"3f2a..\",\"agent\":\"a1\",\"role\":\"agent\"}\n");
  auto back = base::decode(base::encode(r));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, r);
}

TEST(JournalCodec, OmitsEmptyAttributionAndPath2) {
  JournalRecord r{3, -5, JournalOp::chmod, "", "", "", "", ""};
  EXPECT_EQ(base::encode(r), "{\"seq\":3,\"t\":-5,\"op\":\"chmod\",\"path\":\"\"}\n");
  EXPECT_EQ(*base::decode(base::encode(r)), r);
}

TEST(JournalCodec, EveryOpNameRoundTrips) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(JournalOp::rescan); ++i) {
    auto op = static_cast<JournalOp>(i);
    names.insert(base::op_name(op));
    EXPECT_EQ(base::parse_op(base::op_name(op)), op);
  }
  EXPECT_EQ(names.size(), 16u);
  EXPECT_EQ(base::op_name(JournalOp::removexattr), "removexattr");
  EXPECT_FALSE(base::parse_op("frob"));
  EXPECT_FALSE(base::parse_op(""));
}

TEST(JournalCodec, NonUtf8PathBytesRoundTrip) {
  // Invalid UTF-8 of every kind next to valid multi-byte text and JSON's special characters.
  const std::string path =
      "caf\xc3\xa9/\xff\xfe lone \xe9 overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xe2\x82 "
      "big \xf4\x90\x80\x80 emoji \xf0\x9f\x98\x80 quote\" back\\ nl\n tab\t ctl\x01 del\x7f";
  JournalRecord r{7, 1, JournalOp::rename, path, std::string("x\x80y", 3), "", "", ""};
  std::string line = base::encode(r);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "one line per record";
  EXPECT_NE(line.find("\\udcff\\udcfe"), std::string::npos) << line;
  EXPECT_NE(line.find("caf\xc3\xa9"), std::string::npos) << "valid UTF-8 is written as is";
  EXPECT_NE(line.find("\xf0\x9f\x98\x80"), std::string::npos);
  EXPECT_NE(line.find("x\\udc80y"), std::string::npos);
  auto back = base::decode(line);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->path, path);
  EXPECT_EQ(back->path2, std::string("x\x80y", 3));
}

TEST(JournalCodec, RandomByteStringsRoundTrip) {
  std::mt19937 rng(20241124);
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> byte(1, 255);
  for (int i = 0; i < 5000; ++i) {
    std::string p;
    int n = len(rng);
    for (int k = 0; k < n; ++k) {
      p.push_back(static_cast<char>(byte(rng)));
    }
    JournalRecord r{static_cast<uint64_t>(i + 1), i, JournalOp::write, p, "", p, "", ""};
    auto back = base::decode(base::encode(r));
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(*back, r);
  }
}

TEST(JournalCodec, DecodeAcceptsStandardJsonAndIgnoresUnknownKeys) {
  auto r = base::decode(
      " { \"op\" : \"mkdir\", \"future\": {\"a\": [1, 2.5e3, null, true, \"s\"]}, \"path\": "
      "\"d\\u00e9\\/x\","
      " \"t\": 9, \"seq\": 4, \"smile\": \"\\ud83d\\ude00\" } ");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->seq, 4u);
  EXPECT_EQ(r->op, JournalOp::mkdir);
  EXPECT_EQ(r->path, "d\xc3\xa9/x");
}

TEST(JournalCodec, DecodeErrorsSayWhatIsWrong) {
  auto err = [](std::string_view line) {
    auto r = base::decode(line);
    EXPECT_FALSE(r) << line;
    return r ? std::string() : r.error().message();
  };
  EXPECT_NE(err("{\"t\":1,\"op\":\"write\",\"path\":\"a\"}").find("missing \"seq\""),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"frob\",\"path\":\"a\"}").find("unknown op \"frob\""),
            std::string::npos);
  EXPECT_NE(
      err("{\"seq\":1,\"t\":1,\"op\":\"rename\",\"path\":\"a\"}").find("rename without \"path2\""),
      std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"write\",\"path\":\"a\",\"path2\":\"b\"}")
                .find("\"path2\" on a write"),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":-1,\"t\":1,\"op\":\"write\",\"path\":\"a\"}")
                .find("\"seq\" is not an unsigned"),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"write\",\"path\":\"a").find("unterminated \"path\""),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"write\",\"path\":\"a\"}x").find("trailing bytes"),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"write\",\"path\":\"\\ud800\"}")
                .find("unpaired high surrogate"),
            std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"write\",\"path\":\"a\tb\"}").find("raw control byte"),
            std::string::npos);
  EXPECT_NE(err("").find("expected '{'"), std::string::npos);
  EXPECT_NE(err("{\"seq\":1,\"t\":1,\"op\":\"wr").find("byte"), std::string::npos);
}

TEST(JournalCodec, SegmentNamesAreSixteenHexDigits) {
  EXPECT_EQ(base::journal_segment_name(1), "0000000000000001.log");
  EXPECT_EQ(base::journal_segment_name(0xa113), "000000000000a113.log");
}

// ---- writer ---------------------------------------------------------------------------------

TEST(JournalWriter, AppendThenReadRoundTrip) {
  TempDir t;
  std::string dir = t.path() + "/j";
  auto w = open_writer(dir);
  ASSERT_TRUE(w);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(w->last_seq(), 0u);
  EXPECT_FALSE(w->unclean_stop());
  EXPECT_EQ(*w->append(JournalOp::create, "src/a.ts", "", kAgent), 1u);
  EXPECT_EQ(*w->append(JournalOp::rename, "src/a.ts", "src/b.ts", kAgent), 2u);
  EXPECT_EQ(*w->append(JournalOp::chmod, "", "", {}), 3u);
  EXPECT_EQ(w->last_seq(), 3u);
  ASSERT_TRUE(w->sync());

  auto r = open_reader(dir);
  auto b = r->read_after(0, 100);
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_EQ(b->records.size(), 3u);
  EXPECT_FALSE(b->gap);
  EXPECT_EQ(b->first_retained, 1u);
  EXPECT_EQ(b->last_seq, 3u);
  EXPECT_EQ(b->records[0].op, JournalOp::create);
  EXPECT_EQ(b->records[0].path, "src/a.ts");
  EXPECT_EQ(b->records[0].container, "3f2a9c");
  EXPECT_EQ(b->records[0].agent, "a1");
  EXPECT_EQ(b->records[0].role, "agent");
  EXPECT_EQ(b->records[1].path2, "src/b.ts");
  EXPECT_EQ(b->records[2].container, "");
  EXPECT_LE(b->records[0].time_ns, b->records[2].time_ns);
  EXPECT_GT(b->records[0].time_ns, 1700000000LL * 1000000000LL);

  auto again = r->read_after(b->next_cursor(), 100);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->records.empty());
  EXPECT_EQ(again->last_seq, 3u);
  EXPECT_EQ(again->next_cursor(), 3u);
}

TEST(JournalWriter, RejectsBadArguments) {
  TempDir t;
  auto w = open_writer(t.path());
  EXPECT_EQ(w->append(JournalOp::write, "/etc/passwd", "", kAgent).error().code(), EINVAL);
  EXPECT_EQ(w->append(JournalOp::rename, "a", "", kAgent).error().code(), EINVAL);
  EXPECT_EQ(w->append(JournalOp::write, "a", "b", kAgent).error().code(), EINVAL);
  EXPECT_EQ(w->append(JournalOp::write, std::string("a\0b", 3), "", kAgent).error().code(), EINVAL);
  EXPECT_EQ(w->last_seq(), 0u);
  // Refusing arguments is not a lost change: no rescan is owed.
  EXPECT_EQ(*w->append(JournalOp::write, "a", "", kAgent), 1u);
  auto b = open_reader(t.path())->read_after(0, 10);
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0].op, JournalOp::write);
}

TEST(JournalWriter, SecondWriterIsRefused) {
  TempDir t;
  auto w = open_writer(t.path());
  auto second = JournalWriter::open(t.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), EBUSY);
}

TEST(JournalWriter, SeqContinuesAfterReopen) {
  TempDir t;
  {
    auto w = open_writer(t.path());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(w->append(JournalOp::write, "f" + std::to_string(i), "", kAgent));
    }
  }
  auto w = open_writer(t.path());
  EXPECT_EQ(w->last_seq(), 5u);
  EXPECT_FALSE(w->unclean_stop()) << "the first writer stopped cleanly";
  EXPECT_EQ(*w->append(JournalOp::unlink, "f0", "", kAgent), 6u);
  auto b = open_reader(t.path())->read_after(0, 100);
  ASSERT_EQ(b->records.size(), 6u);
  EXPECT_FALSE(b->gap);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(b->records[i].seq, i + 1);
  }
}

TEST(JournalWriter, TornLastLineIsCutAndTheNextAppendIsReadable) {
  TempDir t;
  {
    auto w = open_writer(t.path());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(w->append(JournalOp::write, "f" + std::to_string(i), "", kAgent));
    }
  }
  std::string seg = t.path() + "/" + base::journal_segment_name(1);
  append_raw(seg, "{\"seq\":4,\"t\":17324300001,\"op\":\"wri");
  auto w = open_writer(t.path());
  EXPECT_EQ(w->last_seq(), 3u);
  EXPECT_TRUE(w->unclean_stop());
  EXPECT_EQ(*w->append(JournalOp::create, "after", "", kAgent), 4u);
  EXPECT_EQ(check_whole_lines(t.path()), (std::vector<uint64_t>{1, 2, 3, 4}));
  auto b = open_reader(t.path())->read_after(3, 10);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0].path, "after");
  EXPECT_FALSE(b->gap);
}

TEST(JournalWriter, UndecodableLastLinesAreCut) {
  TempDir t;
  {
    auto w = open_writer(t.path());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(w->append(JournalOp::write, "f" + std::to_string(i), "", kAgent));
    }
  }
  // What a power loss can leave: zeroed blocks, garbage, then a partial line.
  append_raw(t.path() + "/" + base::journal_segment_name(1),
             std::string("\0\0\0\n", 4) + "garbage\n{\"se");
  auto w = open_writer(t.path());
  EXPECT_EQ(w->last_seq(), 3u);
  EXPECT_TRUE(w->unclean_stop());
  EXPECT_EQ(*w->append(JournalOp::write, "g", "", kAgent), 4u);
  EXPECT_EQ(check_whole_lines(t.path()), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(JournalWriter, RecordsSurviveKill9AndTheNextWriterSaysUnclean) {
  TempDir t;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = JournalWriter::open(t.path());
    for (int i = 0; w && i < 1000; ++i) {
      if (!(*w)->append(JournalOp::write, "f", "", kAgent)) {
        ::_exit(3);
      }
    }
    ::raise(SIGKILL);  // no sync, no destructor
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto b = open_reader(t.path())->read_after(0, 5000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->records.size(), 1000u);
  EXPECT_EQ(b->last_seq, 1000u);
  auto w = open_writer(t.path());
  EXPECT_TRUE(w->unclean_stop());
  EXPECT_EQ(w->last_seq(), 1000u);
}

TEST(JournalWriter, RotationCreatesSegmentsAndRetentionDeletesTheOldest) {
  TempDir t;
  JournalOptions opts;
  opts.segment_bytes = 1024;
  opts.max_bytes = 4096;
  auto w = open_writer(t.path(), opts);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(w->append(JournalOp::write, "src/file" + std::to_string(i) + ".ts", "", kAgent));
    uintmax_t total = 0;
    for (const auto& f : segment_files(t.path())) {
      total += fs::file_size(f);
      EXPECT_LE(fs::file_size(f), 1024u) << f;
    }
    ASSERT_LE(total, 4096u) << "after record " << i + 1;
  }
  auto files = segment_files(t.path());
  EXPECT_GE(files.size(), 4u);
  EXPECT_LE(files.size(), 5u);
  EXPECT_EQ(fs::path(files.front()).filename() == base::journal_segment_name(1), false)
      << "the oldest segment was deleted";
  auto seqs = check_whole_lines(t.path());
  for (size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "segments are contiguous";
  }
  EXPECT_EQ(seqs.back(), 300u);

  auto r = open_reader(t.path());
  auto b = r->read_after(0, 1000);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_TRUE(b->gap);
  EXPECT_GT(b->first_retained, 1u);
  EXPECT_EQ(b->first_retained, seqs.front());
  ASSERT_FALSE(b->records.empty());
  EXPECT_EQ(b->records.front().seq, b->first_retained);
  EXPECT_EQ(b->records.back().seq, 300u);
  EXPECT_EQ(b->records.size(), 300 - b->first_retained + 1);

  // A cursor just before the oldest retained record has lost nothing.
  auto fresh = open_reader(t.path())->read_after(b->first_retained - 1, 1000);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->gap);
  EXPECT_EQ(fresh->records.size(), b->records.size());

  // Reopening keeps enforcing the limit and continues the sequence in the newest segment.
  w.reset();
  w = open_writer(t.path(), opts);
  EXPECT_EQ(*w->append(JournalOp::write, "x", "", kAgent), 301u);
}

TEST(JournalWriter, ConcurrentAppendsGetUniqueGapFreeSeqs) {
  TempDir t;
  JournalOptions opts;
  opts.segment_bytes = 64 << 10;  // rolls happen under contention too
  opts.max_bytes = 1ull << 30;
  auto w = open_writer(t.path(), opts);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Attribution who{"c" + std::to_string(i), "agent" + std::to_string(i), "agent"};
      for (int k = 0; k < kPerThread; ++k) {
        auto r = w->append(JournalOp::write, "t" + std::to_string(i) + "/f" + std::to_string(k), "",
                           who);
        if (!r) {
          ADD_FAILURE() << r.error().message();
          return;
        }
        got[i].push_back(*r);
      }
    });
  }
  // sync() runs alongside the appends, as covefs calls it on fsync.
  std::atomic<bool> done{false};
  int syncs = 0;
  std::thread syncer([&] {
    while (!done.load()) {
      auto r = w->sync();
      if (!r) {
        ADD_FAILURE() << r.error().message();
        return;
      }
      ++syncs;
    }
  });
  for (auto& th : threads) {
    th.join();
  }
  done = true;
  syncer.join();
  EXPECT_GT(syncs, 0);
  std::vector<uint64_t> all;
  for (const auto& v : got) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end())) << "seqs grow within a thread";
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i], i + 1);
  }
  EXPECT_EQ(w->last_seq(), all.size());
  auto on_disk = check_whole_lines(t.path());
  ASSERT_EQ(on_disk.size(), all.size());
  for (size_t i = 0; i < on_disk.size(); ++i) {
    ASSERT_EQ(on_disk[i], i + 1) << "lines are in seq order";
  }
  EXPECT_GT(segment_files(t.path()).size(), 10u);
}

TEST(JournalWriter, FullFilesystemFailsCleanlyAndOwesARescan) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a small tmpfs needs root";
  }
  TempDir t;
  std::string mnt = t.path() + "/small";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "mount tmpfs: " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};

  std::string dir = mnt + "/j";
  JournalOptions opts;
  opts.segment_bytes = 16 << 10;
  opts.max_bytes = 1ull << 30;
  auto w = open_writer(dir, opts);
  ASSERT_TRUE(w);
  uint64_t last_ok = 0;
  base::Error err;
  for (int i = 0; i < 100000; ++i) {
    auto r = w->append(JournalOp::write, "src/some/longish/path/file" + std::to_string(i) + ".ts",
                       "", kAgent);
    if (!r) {
      err = r.error();
      break;
    }
    last_ok = *r;
  }
  EXPECT_EQ(err.code(), ENOSPC) << err.message();
  EXPECT_GT(last_ok, 100u);
  EXPECT_EQ(w->last_seq(), last_ok) << "a failed append consumes no seq";
  auto seqs = check_whole_lines(dir);
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs.back(), last_ok);
  EXPECT_EQ(seqs.size(), last_ok);

  // Still full. The owed rescan record is short and may still fit; the record does not.
  EXPECT_EQ(
      w->append(JournalOp::write, "src/some/longish/path/again.ts", "", kAgent).error().code(),
      ENOSPC);
  uint64_t last = w->last_seq();
  EXPECT_LE(last, last_ok + 1);
  seqs = check_whole_lines(dir);
  EXPECT_EQ(seqs.back(), last);

  // Free space by hand; the next append first records that changes went unrecorded.
  fs::remove(segment_files(dir).front());
  auto r = w->append(JournalOp::create, "after", "", kAgent);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, last + 2);
  auto reader = open_reader(dir);
  auto b = reader->read_after(last_ok, 10);
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_EQ(b->records.size(), *r - last_ok);
  for (size_t i = 0; i + 1 < b->records.size(); ++i) {
    EXPECT_EQ(b->records[i].op, JournalOp::rescan);
    EXPECT_EQ(b->records[i].seq, last_ok + 1 + i);
  }
  EXPECT_EQ(b->records.back().path, "after");
  EXPECT_TRUE(b->gap);
  w.reset();
}

TEST(JournalWriter, ShortWriteIsCutBack) {
  // Without space reserved ahead (RLIMIT_FSIZE is not checked by fallocate KEEP_SIZE), a write
  // that crosses the limit comes back short: the partial line must not stay in the file.
  TempDir t;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit rl{3000, 3000};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    auto w = JournalWriter::open(t.path());
    if (!w) {
      ::_exit(2);
    }
    for (int i = 0; i < 1000; ++i) {
      auto r =
          (*w)->append(JournalOp::write, std::string(100, 'p') + std::to_string(i), "", kAgent);
      if (!r) {
        ::_exit(r.error().code() == EFBIG ? 0 : 3);
      }
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto seqs = check_whole_lines(t.path());
  ASSERT_FALSE(seqs.empty());
  EXPECT_LE(fs::file_size(segment_files(t.path()).front()), 3000u);
  auto w = open_writer(t.path());
  EXPECT_EQ(w->last_seq(), seqs.size());
}

// ---- reader ---------------------------------------------------------------------------------

TEST(JournalReader, MidStreamSeesOnlyWholeLines) {
  TempDir t;
  {
    auto w = open_writer(t.path());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(w->append(JournalOp::write, "f" + std::to_string(i), "", kAgent));
    }
  }
  auto r = open_reader(t.path());
  ASSERT_EQ(r->read_after(0, 10)->records.size(), 3u);

  JournalRecord next{
      4, 1732430000000000000, JournalOp::rename, "old name", "new name", "c", "a", "agent"};
  std::string line = base::encode(next);
  std::string seg = t.path() + "/" + base::journal_segment_name(1);
  append_raw(seg, line.substr(0, line.size() / 2));

  auto b = r->read_after(3, 10);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->records.empty()) << "half a line is not a record";
  EXPECT_EQ(b->last_seq, 3u);
  EXPECT_FALSE(b->gap);
  // A reader that starts now sees the same.
  auto late = open_reader(t.path())->read_after(0, 10);
  ASSERT_EQ(late->records.size(), 3u);
  EXPECT_EQ(late->last_seq, 3u);

  append_raw(seg, line.substr(line.size() / 2));
  b = r->read_after(3, 10);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0], next);
  EXPECT_FALSE(b->gap);
}

TEST(JournalReader, IncrementalReadsMatchFreshReadsAtAnyCursor) {
  TempDir t;
  JournalOptions opts;
  opts.segment_bytes = 2048;
  opts.max_bytes = 1ull << 30;
  auto w = open_writer(t.path(), opts);
  auto r = open_reader(t.path());
  std::vector<JournalRecord> seen;
  uint64_t cursor = 0;
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(w->append(JournalOp::write, "p" + std::to_string(i), "", kAgent));
    if (i % 3 == 0) {
      auto b = r->read_after(cursor, 7);
      ASSERT_TRUE(b) << b.error().message();
      EXPECT_FALSE(b->gap);
      EXPECT_GE(b->last_seq, b->next_cursor());
      seen.insert(seen.end(), b->records.begin(), b->records.end());
      cursor = b->next_cursor();
    }
  }
  for (;;) {
    auto b = r->read_after(cursor, 7);
    ASSERT_TRUE(b);
    if (b->records.empty()) {
      EXPECT_EQ(b->last_seq, 600u);
      break;
    }
    seen.insert(seen.end(), b->records.begin(), b->records.end());
    cursor = b->next_cursor();
  }
  ASSERT_EQ(seen.size(), 600u);
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i].seq, i + 1);
    ASSERT_EQ(seen[i].path, "p" + std::to_string(i));
  }
  EXPECT_GT(segment_files(t.path()).size(), 20u);

  // Any cursor, read by a fresh reader and by one positioned elsewhere.
  auto other = open_reader(t.path());
  for (uint64_t c : {0, 1, 2, 37, 38, 250, 299, 598, 599, 600}) {
    auto fresh = open_reader(t.path())->read_after(c, 1000);
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(fresh->gap) << c;
    ASSERT_EQ(fresh->records.size(), 600 - c) << c;
    if (c < 600) {
      EXPECT_EQ(fresh->records.front().seq, c + 1);
    }
    auto moved = other->read_after(c, 5);
    ASSERT_TRUE(moved);
    ASSERT_EQ(moved->records.size(), std::min<uint64_t>(5, 600 - c));
    if (c < 600) {
      EXPECT_EQ(moved->records.front().seq, c + 1);
    }
    EXPECT_EQ(moved->last_seq, 600u) << "known even when max_records cut the batch";
  }
}

TEST(JournalReader, FreshReadsFindAnyCursorInALargeSegment) {
  // One segment of several MiB, with some lines longer than the reader's probes, so locating a
  // cursor bisects byte offsets inside the segment.
  TempDir t;
  auto w = open_writer(t.path());
  constexpr uint64_t kRecords = 40000;
  for (uint64_t i = 1; i <= kRecords; ++i) {
    std::string path = "dir/f" + std::to_string(i);
    if (i % 997 == 0) {
      path += std::string(9000, 'L');
    }
    ASSERT_EQ(*w->append(JournalOp::write, path, "", kAgent), i);
  }
  ASSERT_EQ(segment_files(t.path()).size(), 1u);
  ASSERT_GT(fs::file_size(segment_files(t.path()).front()), 3u << 20);
  auto r = open_reader(t.path());
  std::mt19937 rng(7);
  std::vector<uint64_t> cursors = {0, 1, 996, 997, 998, 19999, 39999, 40000};
  for (int i = 0; i < 200; ++i) {
    cursors.push_back(rng() % (kRecords + 1));
  }
  for (uint64_t c : cursors) {
    auto b = r->read_after(c, 3);
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_FALSE(b->gap);
    EXPECT_EQ(b->last_seq, kRecords);
    ASSERT_EQ(b->records.size(), std::min<uint64_t>(3, kRecords - c)) << c;
    for (size_t k = 0; k < b->records.size(); ++k) {
      ASSERT_EQ(b->records[k].seq, c + 1 + k);
      ASSERT_EQ(b->records[k].path.substr(0, 5 + std::to_string(c + 1 + k).size()),
                "dir/f" + std::to_string(c + 1 + k));
    }
  }
}

TEST(JournalReader, RescanRecordIsReportedAsGap) {
  TempDir t;
  auto w = open_writer(t.path());
  ASSERT_TRUE(w->append(JournalOp::write, "a", "", kAgent));
  auto r = open_reader(t.path());
  auto b = r->read_after(0, 10);
  EXPECT_FALSE(b->gap);
  ASSERT_TRUE(w->append(JournalOp::rescan, "", "", {}));
  ASSERT_TRUE(w->append(JournalOp::write, "b", "", kAgent));
  b = r->read_after(1, 10);
  ASSERT_EQ(b->records.size(), 2u);
  EXPECT_EQ(b->records[0].op, JournalOp::rescan);
  EXPECT_TRUE(b->gap);
  b = r->read_after(3, 10);
  EXPECT_FALSE(b->gap);
}

TEST(JournalReader, CursorBeyondTheEndMeansTheJournalWasRecreated) {
  TempDir t;
  auto w = open_writer(t.path());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(w->append(JournalOp::write, "f", "", kAgent));
  }
  auto b = open_reader(t.path())->read_after(100, 10);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->gap);
  ASSERT_EQ(b->records.size(), 5u);
  EXPECT_EQ(b->records[0].seq, 1u);
  EXPECT_EQ(b->next_cursor(), 5u);
}

TEST(JournalReader, UndecodableLineInTheMiddleIsAGap) {
  TempDir t;
  {
    auto w = open_writer(t.path());
    ASSERT_TRUE(w->append(JournalOp::write, "a", "", kAgent));
  }
  append_raw(t.path() + "/" + base::journal_segment_name(1),
             "{\"seq\":2,\"t\":1,\"op\":\"frob\",\"path\":\"x\"}\n");
  append_raw(t.path() + "/" + base::journal_segment_name(1),
             base::encode({3, 1, JournalOp::write, "c", "", "", "", ""}));
  auto b = open_reader(t.path())->read_after(1, 10);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->gap);
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0].seq, 3u);
}

TEST(JournalReader, EmptyOrMissingJournal) {
  TempDir t;
  EXPECT_EQ(JournalReader::open(t.path() + "/nope").error().code(), ENOENT);
  auto r = open_reader(t.path());
  auto b = r->read_after(0, 10);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->records.empty());
  EXPECT_FALSE(b->gap);
  EXPECT_EQ(b->last_seq, 0u);
  EXPECT_EQ(r->read_after(0, 0).error().code(), EINVAL);
  auto w = open_writer(t.path());
  ASSERT_TRUE(w->append(JournalOp::mkdir, "d", "", kAgent));
  b = r->read_after(0, 10);
  ASSERT_EQ(b->records.size(), 1u);
}

TEST(JournalReader, WakeFdBecomesReadableAfterAnAppend) {
  TempDir t;
  auto w = open_writer(t.path());
  auto r = open_reader(t.path());
  ASSERT_GE(r->wake_fd(), 0);
  EXPECT_TRUE(::fcntl(r->wake_fd(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(r->wake_fd(), F_GETFL) & O_NONBLOCK);
  r->drain_wake_fd();
  pollfd p{r->wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing happened yet";
  ASSERT_TRUE(w->append(JournalOp::write, "a", "", kAgent));
  p.revents = 0;
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_TRUE(p.revents & POLLIN);
  r->drain_wake_fd();
  p.revents = 0;
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "drained";
  EXPECT_EQ(r->read_after(0, 10)->records.size(), 1u);
}

}  // namespace
