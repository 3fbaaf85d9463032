# The node image of the Kubernetes DaemonSets (docker/kubernetes/): every cove binary installed
# by `cmake --install` under /usr/local, with what they run on a node: fuse3 (fusermount3), git
# (cove-sync's index refresh, the clone init container), jq (policy derivation).
#
#   docker build -t cove/node:latest -f docker/images/node.Dockerfile .
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config nlohmann-json3-dev libseccomp-dev libcap-dev \
      libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libfuse3-dev libgit2-dev \
      liburing-dev
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && ninja -C /build cove cove-runtime covefs cove-sync \
 && DESTDIR=/staging cmake --install /build --prefix /usr/local

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      fuse3 libfuse3-3 libgit2-1.5 liburing2 libseccomp2 libcap2 git jq ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/usr/local /usr/local
