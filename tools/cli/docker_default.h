#pragma once
// Docker's default, the yardstick of `cove policy explain` and `lint`: the seccomp profile and
// the 14 capabilities Docker 20.10 puts into the config.json of a plain `docker run`. The data is
// tests/fixtures/docker-20.10-config.json (captured from a real Docker 20.10 daemon), embedded
// into the binary at build time so that cove needs no Docker to explain a policy.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli {

/// Docker 20.10's default seccomp profile (an OCI `linux.seccomp` object).
const nlohmann::ordered_json& docker_default_seccomp();

/// Docker 20.10's default capabilities (the bounding set), in Docker's order.
const std::vector<std::string>& docker_default_capabilities();

}  // namespace cli
