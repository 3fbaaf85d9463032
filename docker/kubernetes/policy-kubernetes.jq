# The sample policy (docker/policy.json) adapted to kubelet + containerd's CRI plugin:
#
#   sed -e 's#^[[:space:]]*//.*##' /usr/local/share/cove/policy.json |
#     jq -f policy-kubernetes.jq >/etc/cove/policy.json
#
# The kubelet bind-mounts into every container /etc/hosts, /dev/termination-log and projected
# volumes (service account token) from /var/lib/kubelet/pods/<uid>/, and containerd's CRI adds
# /etc/hostname and /etc/resolv.conf from /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/
# and /dev/shm from /run/containerd/io.containerd.grpc.v1.cri/sandboxes/<id>/shm. The sample
# denies all of /run/containerd (which a deny would match before any allow), so here the deny
# list names containerd's sockets and the shims' socket directory instead, and the CRI and
# kubelet directories are allowed. Docker's /var/lib/docker paths are dropped.
def k8s_allow: ["/var/lib/kubelet/pods",
                "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes",
                "/run/containerd/io.containerd.grpc.v1.cri/sandboxes"];
def k8s_deny: ["/var/run/docker.sock", "/run/docker.sock",
               "/run/containerd/containerd.sock", "/run/containerd/containerd.sock.ttrpc",
               "/run/containerd/s", "/run/containerd/io.containerd.runtime.v2.task",
               "/var/lib/kubelet/pki", "/var/lib/kubelet/device-plugins", "/var/lib/kubelet/pod-resources"];
.roles |= map_values(
  .mounts.deny = k8s_deny
  | .mounts.allow = ([.mounts.allow[] | select(startswith("/var/lib/docker") | not)] + k8s_allow)
  | .mounts.readOnly = [(.mounts.readOnly // [])[] | select(startswith("/var/lib/docker") | not)]
)
