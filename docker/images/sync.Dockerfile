# The sync image: cove-sync and git on Debian 12, user 1000:1000. Built from the source tree:
#
#   docker build -t cove/sync:latest -f docker/images/sync.Dockerfile .
#
# cove-sync commits the team's checkout (the covefs mount at /workspace, which cove-runtime binds
# for role sync) from the change journal (/var/lib/cove/journal/<team>, bound read-only):
#
#   docker run --runtime=cove-sync -e COVE_TEAM=alpha \
#     -v /var/lib/cove/journal/alpha:/journal:ro -v cove-sync-alpha:/state cove/sync \
#     --team alpha --repo /workspace --journal /journal --state-dir /state --remote URL --branch main
#
# On a host with systemd the same binary runs as cove-sync@<team> (docker/cove-sync@.service);
# the container form is for the compose file and for hosts that run everything in containers.
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config nlohmann-json3-dev libseccomp-dev libcap-dev \
      libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libfuse3-dev libgit2-dev \
      liburing-dev
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
 && ninja -C /build cove-sync

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      git ca-certificates libgit2-1.5 liburing2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd -g 1000 cove && useradd -u 1000 -g 1000 -d /state -M -s /usr/sbin/nologin cove \
 && mkdir -p /workspace /journal /state && chown 1000:1000 /state
COPY --from=build /build/sync/cove-sync /usr/local/bin/cove-sync
USER 1000:1000
WORKDIR /workspace
ENTRYPOINT ["/usr/local/bin/cove-sync"]
