"""What the default simulated cluster runs, and the churn every default cluster has."""

from __future__ import annotations

DAY = 86400.0
HOUR = 3600.0
WEEK = 7 * DAY

# (namespace, kind, name, replicas, cpu cores, tx bytes/s, extra)
DEFAULT_WORKLOADS: list[tuple[str, str, str, int, float, float, dict[str, object]]] = [
    ("kube-system", "DaemonSet", "kube-proxy", 0, 0.02, 2e3,
     {"host_network": True, "priority_class": "system-node-critical", "control_plane": True}),
    ("kube-system", "DaemonSet", "calico-node", 0, 0.05, 5e3,
     {"host_network": True, "priority_class": "system-node-critical", "control_plane": True}),
    ("kube-system", "Deployment", "coredns", 2, 0.03, 4e4, {"priority_class": "system-cluster-critical"}),
    ("kube-system", "Deployment", "metrics-server", 1, 0.02, 1e4, {}),
    ("monitoring", "DaemonSet", "node-exporter", 0, 0.02, 3e3, {"host_network": True, "control_plane": True}),
    ("monitoring", "StatefulSet", "prometheus", 2, 0.6, 2e5, {}),
    ("monitoring", "Deployment", "kube-state-metrics", 1, 0.05, 5e4, {}),
    ("monitoring", "Deployment", "grafana", 1, 0.05, 2e4, {}),
    ("falco", "DaemonSet", "falco", 0, 0.1, 5e3, {"control_plane": True, "priority_class": "system-node-critical"}),
    ("falco", "Deployment", "falcosidekick", 2, 0.01, 3e3, {}),
    ("ingress-nginx", "Deployment", "ingress-nginx-controller", 2, 0.2, 3e6, {"rollouts": False}),
    ("cert-manager", "Deployment", "cert-manager", 1, 0.01, 2e3, {}),
    ("shop", "Deployment", "storefront", 6, 0.25, 8e5, {}),
    ("shop", "Deployment", "cart", 4, 0.1, 1e5, {}),
    ("shop", "Deployment", "catalog", 4, 0.15, 6e5, {}),
    ("shop", "Deployment", "checkout", 3, 0.1, 1e5, {}),
    ("shop", "Deployment", "search-api", 4, 0.3, 3e5, {}),
    ("shop", "Deployment", "api-gateway", 4, 0.2, 5e5, {}),
    ("shop", "Deployment", "inventory", 3, 0.08, 8e4, {}),
    ("payments", "Deployment", "payments-api", 3, 0.12, 2e5, {}),
    ("payments", "StatefulSet", "ledger-db", 3, 0.3, 1.5e5, {}),
    ("auth", "Deployment", "auth-service", 3, 0.1, 1e5, {}),
    ("auth", "StatefulSet", "keycloak", 2, 0.2, 6e4, {}),
    ("data", "StatefulSet", "postgres", 3, 0.4, 4e5, {}),
    ("data", "StatefulSet", "redis", 3, 0.1, 3e5, {}),
    ("data", "Deployment", "etl-worker", 6, 0.3, 2e5, {}),
    ("media", "Deployment", "thumbnailer", 5, 0.2, 1e5, {}),
    # an Argo Rollout: its ReplicaSets' owner is the Rollout, not a Deployment
    ("shop", "Rollout", "recommendations", 4, 0.15, 2e5, {}),
]

# The churn every default cluster has (times relative to the anchor, i.e. "now" of the history).
RETIRED = ("shop", "Deployment", "legacy-search", 3, 0.2, 1e5)
RETIRED_AGO = 21 * DAY
NEW_DAEMONSET = ("kube-system", "DaemonSet", "node-debugger", 0, 0.01, 1e3)
NEW_DAEMONSET_AGO = 47 * HOUR
NEW_NODE_AGO = 6 * DAY + 3 * HOUR
MOVED_PODS = [("data", "postgres", 1, 30 * HOUR), ("data", "redis", 2, 3 * DAY + 4 * HOUR)]
CRONJOB = ("batch", "report-builder")
# A kubeadm control plane's static pods (owner: the Node), with their usual CPU in cores.
STATIC_PODS = [("kube-apiserver", 0.9), ("etcd", 0.25), ("kube-controller-manager", 0.08),
               ("kube-scheduler", 0.02)]

__all__ = ["CRONJOB", "DAY", "DEFAULT_WORKLOADS", "HOUR", "MOVED_PODS", "NEW_DAEMONSET",
           "NEW_DAEMONSET_AGO", "NEW_NODE_AGO", "RETIRED", "RETIRED_AGO", "STATIC_PODS", "WEEK"]
