// The shim's own work before exec on `create`, in process: read and parse the policy, read and
// parse config.json (Docker 20.10's, whose seccomp profile names ~360 syscalls), pick the role,
// apply it, serialise, write atomically, write the record. Reported in docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "base/file.h"
#include "oci/spec.h"
#include "policy/apply.h"
#include "policy/audit.h"
#include "policy/match.h"
#include "base/records.h"

namespace {

const std::string kDir = COVE_SOURCE_DIR;

class NoMountsHost : public policy::RealHost {
 public:
  bool is_mountpoint(const std::string&) const override { return true; }
};

void BM_CreatePipeline(benchmark::State& state) {
  // Bundles live on /run (tmpfs) under containerd; /dev/shm is the same kind of filesystem.
  char tmpl[] = "/dev/shm/cove-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string config = *base::read_file(kDir + "/tests/fixtures/docker-20.10-config.json");
  // Add env so the role is found as Docker passes it.
  auto spec = nlohmann::ordered_json::parse(config);
  spec["process"]["env"].push_back("COVE_ROLE=agent");
  config = spec.dump();
  NoMountsHost host;
  for (auto _ : state) {
    state.PauseTiming();
    (void)base::write_file_atomic(dir + "/config.json", config);
    state.ResumeTiming();
    auto pol = policy::load_policy(kDir + "/docker/policy.json");
    auto bundle = oci::load_bundle(dir);
    auto sel = policy::select_role(*pol, bundle->spec, std::nullopt);
    policy::ApplyContext ctx{*pol, *sel->role, sel->id, host};
    policy::Decision d = policy::apply_role(ctx, bundle->spec);
    policy::AuditEvent ev{"create", "bench", sel->id, sel->role->backend, &d};
    std::string line = policy::audit_line(*pol, ev);
    (void)base::append_line(dir + "/audit.jsonl", line);
    (void)oci::save_bundle(*bundle);
    base::ContainerRecord rec;
    rec.id = "bench";
    rec.role = sel->id.role;
    (void)base::save_record(dir, rec);
    benchmark::DoNotOptimize(line);
  }
  std::system(("rm -rf " + dir).c_str());
}
BENCHMARK(BM_CreatePipeline)->Unit(benchmark::kMicrosecond);

void BM_ParseDockerConfig(benchmark::State& state) {
  std::string config = *base::read_file(kDir + "/tests/fixtures/docker-20.10-config.json");
  for (auto _ : state) {
    auto j = nlohmann::ordered_json::parse(config);
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_ParseDockerConfig)->Unit(benchmark::kMicrosecond);

void BM_LoadPolicy(benchmark::State& state) {
  for (auto _ : state) {
    auto p = policy::load_policy(kDir + "/docker/policy.json");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_LoadPolicy)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
