"""The benign events of an ordinary day, spread over the day before the incident window.

Each one looks, to a naive query, like one of the scripted attacks; the day sweep (every
detector every 5 minutes over the last 24 hours) shows that none of them fires.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0


@dataclass(frozen=True)
class DayEvent:
    name: str
    detector: str  # the detector a naive version of which it would fool
    ago: float  # seconds before the anchor it starts (rounded to the minute)
    duration: float  # seconds it is active
    summary: str


DAY_EVENTS = [
    DayEvent("nightly-backup", "pod-egress-outlier", 23.75 * HOUR, 25 * 60,
             "every postgres and ledger-db replica streams its backup to object storage at 20 MB/s"),
    DayEvent("rollout-warmup", "container-cpu-outlier", 21.5 * HOUR, 8 * 60,
             "storefront rolls out one pod a minute; each new pod burns several times its usual "
             "CPU while it warms up"),
    DayEvent("cronjob-burst", "container-cpu-outlier", 23 * HOUR, 10 * 60,
             "the hourly report-builder Job runs 3 pods, each at 0.9 cores, for 10 minutes"),
    DayEvent("hpa-scale-up", "container-cpu-outlier", 19 * HOUR, 60 * 60,
             "search-api scales from 4 to 8 pods; every pod busy at 2.5x its usual CPU"),
    DayEvent("falco-upgrade", "falco-blind", 17.5 * HOUR, 12 * 60,
             "the Falco DaemonSet is upgraded: each node's Falco restarts in turn "
             "(counters reset, a minute without metrics)"),
    DayEvent("node-drain", "pod-egress-outlier", 17 * HOUR, 30 * 60,
             "worker-3 is drained for maintenance: its pods are recreated under new names, or "
             "moved, on other nodes"),
    DayEvent("control-plane-join", "rbac-cluster-change", 16 * HOUR, 20 * 60,
             "control-plane-2 joins: its static pods start, and its kube-apiserver, a target "
             "Prometheus never saw, is first scraped with counters already high (73 RBAC "
             "writes of its bootstrap policy)"),
    DayEvent("busy-path-404s", "ingress-fingerprinting", 15 * HOUR, 30 * 60,
             "a broken image link: shop.example.com/ answers 12% 404 at full traffic, "
             "cdn.example.com/images 18%"),
    DayEvent("client-cert-rotation", "cert-expiry-apiserver-client", 14 * HOUR, 30 * 60,
             "kubelets rotate their client certificates (40 days left -> 365), reconnecting at "
             "three times the usual request rate"),
    # off the sweep's 5-minute grid: a born-in-window fragment would count it for 5 minutes
    DayEvent("falco-first-scrape", "falco-rule-burst", 13 * HOUR - 150, 10 * 60,
             "worker-5's Falco, running for 6 days, is scraped for the first time: its rule "
             "counters start in the hundreds"),
    DayEvent("exporters-miss-scrapes", "ingress-created", 9.75 * HOUR, 4 * 60,
             "kube-state-metrics misses 3 scrapes, worker-1's kubelet 4 and ingress-nginx 2"),
]

DRAINED_NODE = "worker-3"
BACKUP_WORKLOADS = (("data", "postgres"), ("payments", "ledger-db"))
HPA = ("shop", "search-api", 4)  # namespace, Deployment, pods added
SCRIPTED_ROLLOUTS = (("shop", "storefront", "rollout-warmup"),)
ROLL_STEP = 60.0  # a rolling update replaces one pod a minute (maxSurge 1, maxUnavailable 0)
WARMUP = 180.0  # seconds a new pod of a Deployment runs hot while it starts


def event(name: str) -> DayEvent:
    return next(e for e in DAY_EVENTS if e.name == name)


def start_of(name: str, anchor: float) -> float:
    """When the named event starts in a history ending at `anchor` (on a whole minute)."""
    t = int(anchor - event(name).ago) // 60 * 60
    if name == "cronjob-burst":  # the hourly Job's first run from then on
        t = -(-t // 3600) * 3600
    return float(t)


def warmup_factor(age: float) -> float:
    """Extra CPU of a starting pod, as a multiple of its usual use: 6x the first minute, 2x
    until WARMUP (JIT compilation, caches filling)."""
    if age < 0 or age >= WARMUP:
        return 0.0
    return 6.0 if age < 60 else 2.0


__all__ = ["DAY_EVENTS", "DayEvent", "event", "start_of", "warmup_factor"]
