#include "tools/cli/container_facts.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "base/jsonc.h"

namespace cli {

namespace {

using base::Result;

std::optional<uint64_t> parse_u64(const std::string& s, int base) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::vector<uint32_t> numbers(const std::string& rest) {
  std::vector<uint32_t> out;
  std::istringstream in(rest);
  uint64_t v = 0;
  while (in >> v) {
    out.push_back(static_cast<uint32_t>(v));
  }
  return out;
}

// Field 22 of /proc/<pid>/stat, the start time in clock ticks since boot, which runc records as
// init_process_start to tell its init process from a later one that reused the PID. The command
// name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
std::optional<uint64_t> start_time(const std::string& stat) {
  size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(in >> field)) {
      return std::nullopt;
    }
  }
  return parse_u64(field, 10);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

ProcStatus parse_proc_status(const std::string& text) {
  ProcStatus s;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string key = line.substr(0, colon);
    std::string rest = line.substr(colon + 1);
    std::istringstream in(rest);
    if (key == "Seccomp") {
      int v = 0;
      if (in >> v) {
        s.seccomp = v;
      }
    } else if (key == "NoNewPrivs") {
      int v = 0;
      if (in >> v) {
        s.no_new_privs = v;
      }
    } else if (key == "CapInh" || key == "CapPrm" || key == "CapEff" || key == "CapBnd" || key == "CapAmb") {
      std::string hex;
      if (in >> hex) {
        if (auto v = parse_u64(hex, 16)) {
          s.caps[key] = *v;
        }
      }
    } else if (key == "Uid") {
      s.uids = numbers(rest);
    } else if (key == "Gid") {
      s.gids = numbers(rest);
    } else if (key == "Groups") {
      s.groups = numbers(rest);
    }
  }
  return s;
}

const char* run_state_name(RunState s) {
  switch (s) {
    case RunState::kRunning:
      return "running";
    case RunState::kCreated:
      return "created";
    case RunState::kStopped:
      return "stopped";
    case RunState::kAbsent:
      return "absent";
  }
  return "absent";
}

RuntimeState ProcReader::runtime_state(const std::string& root, const std::string& id) const {
  RuntimeState st;
  std::string dir = root + "/" + id;
  auto text = base::read_file(dir + "/state.json");
  if (!text) {
    return st;  // absent: deleted, or never created in this root
  }
  auto j = base::parse_json(*text, dir + "/state.json");
  st.state = RunState::kStopped;
  if (!j || !j->contains("init_process_pid") || !(*j)["init_process_pid"].is_number_integer()) {
    return st;
  }
  st.pid = (*j)["init_process_pid"].get<int>();
  auto stat = base::read_file(proc_ + "/" + std::to_string(st.pid) + "/stat");
  if (st.pid <= 0 || !stat) {
    return st;
  }
  auto started = start_time(*stat);
  auto recorded = j->find("init_process_start");
  if (recorded != j->end() && recorded->is_number_unsigned() && started && *started != recorded->get<uint64_t>()) {
    return st;  // the PID now belongs to another process
  }
  // A zombie init is a stopped container (runc's own rule).
  size_t close = stat->rfind(')');
  if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z') {
    return st;
  }
  struct stat fifo {};
  st.state = ::stat((dir + "/exec.fifo").c_str(), &fifo) == 0 ? RunState::kCreated : RunState::kRunning;
  return st;
}

Result<ContainerFacts> ProcReader::read(int pid, const std::vector<MountInfo>& host_mounts) const {
  ContainerFacts f;
  f.pid = pid;
  std::string dir = proc_ + "/" + std::to_string(pid);
  COVE_TRY_ASSIGN(status, base::read_file(dir + "/status"));
  f.status = parse_proc_status(status);
  COVE_TRY_ASSIGN(mountinfo, base::read_file(dir + "/mountinfo"));
  f.mounts = parse_mountinfo(mountinfo);
  for (const char* ns : {"net", "pid", "ipc"}) {
    f.shares_host_ns[ns] = same_file(dir + "/ns/" + ns, proc_ + "/1/ns/" + ns);
  }
  if (auto map = base::read_file(dir + "/uid_map")) {
    auto v = numbers(*map);
    f.identity_uid_map = v.size() == 3 && v[0] == 0 && v[1] == 0;
  }
  COVE_TRY_ASSIGN(cgroup, base::read_file(dir + "/cgroup"));
  f.cgroup = read_cgroup_limits(cgroup, host_mounts);
  return f;
}

std::vector<MountInfo> ProcReader::host_mounts() const {
  auto text = base::read_file(proc_ + "/self/mountinfo");
  return text ? parse_mountinfo(*text) : std::vector<MountInfo>{};
}

}  // namespace cli
