// cove-bench-sync: measurements for docs/benchmarks.md ("cove-sync"), driven by sync_bench.sh.
//
//   generate DIR N            N files of ~40 bytes in directories of 100 (d0000/f00.txt ...)
//   commit DIR N ROUNDS FILES per round: rewrite FILES random files of the N generated ones, time the
//                             commit cove-sync makes of them (Committer::commit, one process
//                             kept open as the daemon is) and the index refresh after it;
//                             prints one JSON object with the samples in ms
//   latency ARGS              a steady stream of writes, each to a file not written in the last
//                             FILES/RATE seconds, with the daemon running; for every write, the
//                             time until the batch that commits its path. Writes go into the
//                             repository with the journal records appended here (--journal),
//                             or through a covefs mount (--write-dir) that journals them itself
//   soak ARGS                 OPS journaled writes as fast as possible over FILES files with the
//                             daemon running; then checks that the branch equals the working
//                             tree (git, through a throwaway index), that `git status` is clean
//                             (the index follows) and that the cursor equals the journal's last seq
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/journal.h"
#include "sync/committer.h"
#include "sync/daemon.h"
#include "sync/index_sync.h"
#include "sync/log.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string file_name(size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "d%04zu/f%02zu.txt", i / 100, i % 100);
  return buf;
}

bool write_file(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  return ok;
}

int generate(const std::string& dir, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i % 100 == 0) {
      std::filesystem::create_directories(dir + "/" + file_name(i).substr(0, 5));
    }
    if (!write_file(dir + "/" + file_name(i), "file " + std::to_string(i) + " of the benchmark repository\n")) {
      std::perror("write");
      return 1;
    }
  }
  return 0;
}

std::string samples_json(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) {
    s += (i ? "," : "") + std::to_string(v[i]);
  }
  return s + "]";
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int commit_bench(const std::string& dir, size_t n, int rounds, int files) {
  covesync::set_quiet(true);
  auto c = covesync::Committer::open({dir, "bench", "bench@bench"});
  if (!c) {
    std::fprintf(stderr, "%s\n", c.error().message().c_str());
    return 1;
  }
  std::mt19937 rng(42);
  std::vector<double> commit_ms, index_ms, total_ms;
  for (int r = 0; r < rounds; r++) {
    std::vector<covesync::PathChange> paths;
    for (int i = 0; i < files; i++) {
      std::string rel = file_name(rng() % n);
      write_file(dir + "/" + rel, "round " + std::to_string(r) + " file " + std::to_string(i) + " at " +
                                      std::to_string(Clock::now().time_since_epoch().count()) + "\n");
      paths.push_back({rel});
    }
    auto t0 = Clock::now();
    auto out = (*c)->commit({covesync::ChangeGroup{covesync::author_for("agent", "", "bench"), paths}},
                            static_cast<uint64_t>(r + 1));
    double t_commit = ms_since(t0);
    if (!out || out->commits.size() != 1) {
      std::fprintf(stderr, "commit failed: %s\n", out ? "no commit" : out.error().message().c_str());
      return 1;
    }
    std::vector<std::string> changed;
    for (auto& e : out->commits[0].edits) {
      changed.push_back(e.path);
    }
    auto t1 = Clock::now();
    auto idx = covesync::sync_index(dir, changed);
    double t_index = ms_since(t1);
    if (!idx) {
      std::fprintf(stderr, "index refresh: %s\n", idx.error().message().c_str());
      return 1;
    }
    commit_ms.push_back(t_commit);
    index_ms.push_back(t_index);
    total_ms.push_back(t_commit + t_index);
  }
  std::printf("{\"files\":%zu,\"changed\":%d,\"commit_ms\":%s,\"index_ms\":%s,\"total_ms\":%s}\n", n, files,
              samples_json(commit_ms).c_str(), samples_json(index_ms).c_str(), samples_json(total_ms).c_str());
  return 0;
}

struct Args {
  std::string repo, journal, state, write_dir;
  double rate = 1000;
  double seconds = 10;
  size_t files = 10000;
  size_t ops = 1000000;
  int quiet_ms = 2000;
  int max_delay_ms = 30000;
  bool epoll = false;
};

Args parse(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--repo") a.repo = v;
    else if (k == "--journal") a.journal = v;
    else if (k == "--state") a.state = v;
    else if (k == "--write-dir") a.write_dir = v;
    else if (k == "--rate") a.rate = std::stod(v);
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--files") a.files = std::stoul(v);
    else if (k == "--ops") a.ops = std::stoul(v);
    else if (k == "--quiet-ms") a.quiet_ms = std::stoi(v);
    else if (k == "--max-delay-ms") a.max_delay_ms = std::stoi(v);
    else if (k == "--epoll") a.epoll = v == "1";
  }
  return a;
}

std::unique_ptr<covesync::Daemon> make_daemon(const Args& a) {
  covesync::SyncOptions o;
  o.team = "bench";
  o.repo = a.repo;
  o.journal = a.journal;
  o.state_dir = a.state;
  o.sync_id = "bench@bench";
  o.quiet_ms = a.quiet_ms;
  o.max_delay_ms = a.max_delay_ms;
  o.force_epoll = a.epoll;
  auto d = covesync::Daemon::create(o);
  if (!d) {
    std::fprintf(stderr, "daemon: %s\n", d.error().message().c_str());
    return nullptr;
  }
  return std::move(*d);
}

int latency(const Args& a) {
  covesync::set_quiet(std::getenv("COVE_BENCH_VERBOSE") == nullptr);
  std::unique_ptr<base::JournalWriter> writer;
  if (a.write_dir.empty()) {
    auto w = base::JournalWriter::open(a.journal);
    if (!w) {
      std::fprintf(stderr, "journal: %s\n", w.error().message().c_str());
      return 1;
    }
    writer = std::move(*w);
  }
  auto daemon = make_daemon(a);
  if (!daemon) {
    return 1;
  }
  std::mutex mu;
  std::map<std::string, Clock::time_point> outstanding;  // path -> time of its uncommitted write
  std::vector<double> lat;
  std::atomic<size_t> batches{0};
  daemon->on_batch([&](uint64_t, const std::vector<std::string>& paths) {
    auto now = Clock::now();
    std::lock_guard<std::mutex> g(mu);
    batches++;
    for (const auto& p : paths) {
      auto it = outstanding.find(p);
      if (it != outstanding.end()) {
        lat.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
        outstanding.erase(it);
      }
    }
  });
  std::thread loop([&] {
    auto r = daemon->run();
    if (!r) {
      std::fprintf(stderr, "daemon: %s\n", r.error().message().c_str());
    }
  });
  std::string base_dir = a.write_dir.empty() ? a.repo : a.write_dir;
  std::filesystem::create_directories(base_dir + "/lat");
  // Let the daemon finish its start-up batch before the clock starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  size_t total = static_cast<size_t>(a.rate * a.seconds);
  auto start = Clock::now();
  auto period = std::chrono::duration<double>(1.0 / a.rate);
  size_t late = 0;
  for (size_t i = 0; i < total; i++) {
    auto when = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
    if (Clock::now() > when + std::chrono::milliseconds(5)) {
      late++;
    }
    std::this_thread::sleep_until(when);
    std::string rel = "lat/" + file_name(i % a.files);
    if (i % a.files < 100 || (i % a.files) % 100 == 0) {
      std::filesystem::create_directories(base_dir + "/" + rel.substr(0, 9));
    }
    {
      std::lock_guard<std::mutex> g(mu);
      outstanding.emplace(rel, Clock::now());  // keeps the first uncommitted write's time
    }
    write_file(base_dir + "/" + rel, "write " + std::to_string(i) + "\n");
    if (writer) {
      (void)writer->append(base::JournalOp::write, rel, "", base::Attribution{"ctr", "bench-agent", "agent"});
    }
  }
  double achieved = static_cast<double>(total) / (ms_since(start) / 1000.0);
  // Wait (bounded) until every write is committed.
  auto end = Clock::now() + std::chrono::milliseconds(a.quiet_ms + a.max_delay_ms + 10000);
  while (Clock::now() < end) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (outstanding.empty()) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  daemon->request_stop();
  loop.join();
  std::lock_guard<std::mutex> g(mu);
  std::printf("{\"writes\":%zu,\"rate\":%.0f,\"late_writes\":%zu,\"quiet_ms\":%d,\"batches\":%zu,\"committed\":%zu,"
              "\"uncommitted\":%zu,\"p50_ms\":%.1f,\"p90_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f}\n",
              total, achieved, late, a.quiet_ms, batches.load(), lat.size(), outstanding.size(), pct(lat, 50),
              pct(lat, 90), pct(lat, 99), pct(lat, 100));
  return outstanding.empty() ? 0 : 1;
}

int soak(const Args& a) {
  // Info lines (scans, commits) go to stderr for the driver to count.
  auto w = base::JournalWriter::open(a.journal);
  if (!w) {
    std::fprintf(stderr, "journal: %s\n", w.error().message().c_str());
    return 1;
  }
  auto daemon = make_daemon(a);
  if (!daemon) {
    return 1;
  }
  std::atomic<size_t> batches{0};
  // The cursor as the daemon's thread reports it: status() belongs to that thread while it runs.
  std::atomic<uint64_t> cursor{0};
  daemon->on_batch([&](uint64_t seq, const std::vector<std::string>&) {
    batches++;
    cursor = seq;
  });
  std::thread loop([&] { (void)daemon->run(); });
  for (size_t i = 0; i < a.files; i += 100) {
    std::filesystem::create_directories(a.repo + "/soak/" + file_name(i).substr(0, 5));
  }
  auto start = Clock::now();
  std::mt19937 rng(7);
  for (size_t i = 0; i < a.ops; i++) {
    std::string rel = "soak/" + file_name(rng() % a.files);
    write_file(a.repo + "/" + rel, "op " + std::to_string(i) + "\n");
    auto r = (*w)->append(base::JournalOp::write, rel, "", base::Attribution{"ctr", "agent" + std::to_string(i % 4), "agent"});
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().message().c_str());
      return 1;
    }
  }
  double write_s = ms_since(start) / 1000.0;
  uint64_t last = (*w)->last_seq();
  // Bounded wait for the cursor to reach the end.
  auto end = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < end && cursor.load() < last) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  daemon->request_stop();
  loop.join();
  uint64_t committed = daemon->status().last_seq_committed;
  daemon.reset();
  // HEAD's tree against the working tree through a throwaway index (independent of cove-sync's
  // code and of the repository's index), then whether the repository's index is in step.
  std::string q = "'" + a.repo + "'";
  std::string idx = "'" + a.repo + "/.git/soak-check-index'";
  std::string cmd = "cd " + q + " && rm -f " + idx + " && GIT_INDEX_FILE=" + idx + " git read-tree HEAD && GIT_INDEX_FILE=" +
                    idx + " git add -A && test \"$(GIT_INDEX_FILE=" + idx +
                    " git write-tree)\" = \"$(git rev-parse 'HEAD^{tree}')\" && rm -f " + idx;
  bool tree_equal = std::system(cmd.c_str()) == 0;
  std::string status_cmd = "test -z \"$(git -C " + q + " -c core.hooksPath=/dev/null status --porcelain)\"";
  bool index_clean = std::system(status_cmd.c_str()) == 0;
  std::printf("{\"ops\":%zu,\"write_s\":%.1f,\"ops_per_s\":%.0f,\"journal_last_seq\":%llu,\"cursor\":%llu,"
              "\"batches\":%zu,\"head_equals_worktree\":%s,\"git_status_clean\":%s}\n",
              a.ops, write_s, static_cast<double>(a.ops) / write_s, static_cast<unsigned long long>(last),
              static_cast<unsigned long long>(committed), batches.load(), tree_equal ? "true" : "false",
              index_clean ? "true" : "false");
  return committed == last && tree_equal && index_clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cove-bench-sync generate|commit|latency|soak ...\n");
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "generate" && argc == 4) {
    return generate(argv[2], std::stoul(argv[3]));
  }
  if (cmd == "commit" && argc == 6) {
    return commit_bench(argv[2], std::stoul(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
  }
  if (cmd == "latency") {
    return latency(parse(argc, argv, 2));
  }
  if (cmd == "soak") {
    return soak(parse(argc, argv, 2));
  }
  std::fprintf(stderr, "usage: cove-bench-sync generate|commit|latency|soak ...\n");
  return 2;
}
