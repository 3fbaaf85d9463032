# Preview images, one per framework, from one file (the build argument FRAMEWORK picks the base):
#
#   docker build -t cove/preview-node:latest   --build-arg FRAMEWORK=node   -f docker/images/preview.Dockerfile docker/images
#   docker build -t cove/preview-python:latest --build-arg FRAMEWORK=python -f docker/images/preview.Dockerfile docker/images
#
# The preview role mounts the workspace read-only and the root filesystem read-only, with a tmpfs
# at /tmp (docker/policy.json), so everything a dev server writes goes to /tmp: HOME, npm's cache,
# Python's bytecode cache. Hot reload needs no polling: an agent's write through the team's covefs
# mount fires inotify in this container (tests/integration/covefs_hot_reload.sh), so leave
# CHOKIDAR_USEPOLLING / WATCHPACK_POLLING unset.
#
# node: Node 22 (node:22-bookworm-slim); `cove-preview-serve` runs the workspace's `npm run dev`
#       (Vite: `vite --host 0.0.0.0 --port 5173`), with node_modules/.vite moved to /tmp by
#       VITE_CACHE_DIR (the project's vite.config must read it: cacheDir: process.env.VITE_CACHE_DIR).
# python: Python 3.11 (python:3.11-slim-bookworm, Debian 12's Python); serves manage.py
#       (Django), app.py (Flask) or the directory (http.server) on port 8000.
ARG FRAMEWORK=node

FROM node:22-bookworm-slim AS base-node
ENV PREVIEW_PORT=5173

FROM python:3.11-slim-bookworm AS base-python
RUN pip install --no-cache-dir flask
ENV PREVIEW_PORT=8000

FROM base-${FRAMEWORK}
ARG FRAMEWORK
COPY cove-preview-serve /usr/local/bin/cove-preview-serve
RUN chmod 0755 /usr/local/bin/cove-preview-serve && mkdir -p /workspace
ENV COVE_PREVIEW_FRAMEWORK=${FRAMEWORK} \
    HOME=/tmp \
    npm_config_cache=/tmp/.npm \
    npm_config_update_notifier=false \
    VITE_CACHE_DIR=/tmp/.vite \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPYCACHEPREFIX=/tmp/pycache
USER 1000:1000
WORKDIR /workspace
EXPOSE ${PREVIEW_PORT}
CMD ["/usr/local/bin/cove-preview-serve"]
