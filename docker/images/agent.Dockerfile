# The agent image: Node 22, Python 3, git, and user 1000:1000 ("agent"), working in /workspace.
#
#   docker build -t cove/agent:latest -f docker/images/agent.Dockerfile docker/images
#
# node:22-bookworm is Debian 12 with the Node.js project's Node 22 (Debian 12's own nodejs is 18).
# It needs a registry; tools/images/build-local.sh builds the same image offline from Debian's
# archive, with Debian's Node 18 (docker/README.md).
#
# cove-runtime enforces the user, capabilities, seccomp and limits whatever the image says; the
# image only has to work under them: no setuid helpers, no sudo, HOME writable by uid 1000.
FROM node:22-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-pip git ca-certificates openssh-client less procps \
 && rm -rf /var/lib/apt/lists/*

# node:22-bookworm already has user "node" with uid/gid 1000; rename it to the name the cove
# images use everywhere (tools/make-rootfs.sh and build-local.sh make the same "agent").
RUN groupmod -n agent node \
 && usermod -l agent -d /home/agent -m node \
 && mkdir -p /workspace \
 && chown 1000:1000 /workspace

# Caches land in HOME, not in the workspace that cove-sync commits.
ENV HOME=/home/agent \
    npm_config_cache=/home/agent/.npm \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GIT_CONFIG_NOSYSTEM=1

USER 1000:1000
WORKDIR /workspace
CMD ["bash"]
