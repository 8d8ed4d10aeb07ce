"""The scripted attacks and their benign look-alikes: what happens, where, and when."""

from __future__ import annotations

from dataclasses import dataclass, field

from promsoc.lab import day
from promsoc.lab.cluster import DAY, HOUR, Cluster

SLOT = 600.0  # each incident owns a 10-minute slot
ACTIVE = 480.0  # and is active for the first 8 minutes of it
DETECT_AFTER = 420.0  # a 5-minute rate window is entirely inside the incident 7 minutes in
# "appeared in the last 5 minutes" can only be seen within 5 minutes of the change; a scrape
# gap in backfilled history has no staleness markers, so its "absent 5m ago" shows only once
# the last sample before the gap is more than 5 minutes older than that
DETECT_AT = {"backdoor-ingress": 150.0, "old-ingress-new-path": 150.0, "falco-scrape-gap": 585.0,
             # a target first scraped: its counters look born in the window for 5 minutes
             "control-plane-join": 300.0, "falco-first-scrape": 120.0}
# benign events that rightly fire another detector than the one they mimic (the day sweep
# counts these firings as expected, not false)
ALSO_FIRES = {"falco-scrape-gap": ("falco-blind", "Falco cannot be scraped for 8 minutes: blind")}
LIVE_EVERY = 90.0  # live mode: a new attack every 90 s ...
LIVE_ACTIVE = 240.0  # ... active for 4 minutes
# Live mode opens on an incident: this attack began this long before the lab was up, so the
# console's first frame already shows it firing (a new Ingress fires from its first sample).
OPENING = "backdoor-ingress"
OPENING_LEAD = 120.0


@dataclass(frozen=True)
class Window:
    """When an incident is active: once, or every `period` seconds from `start`."""

    start: float
    duration: float
    period: float | None = None

    def phase(self, t: float) -> float | None:
        """Seconds since the current activation began, or None when inactive at t."""
        if t < self.start:
            return None
        offset = t - self.start
        if self.period is not None:
            offset %= self.period
        return offset if offset < self.duration else None

    def last_start(self, t: float) -> float | None:
        """Start of the most recent activation at or before t."""
        if t < self.start:
            return None
        if self.period is None:
            return self.start
        return self.start + ((t - self.start) // self.period) * self.period


@dataclass(frozen=True)
class Incident:
    """One scripted event in the backfilled history."""

    name: str
    detector: str
    benign: bool
    start: float
    end: float
    labels: dict[str, str]
    summary: str

    @property
    def eval_at(self) -> float:
        """A moment at which the incident must be detected (or, if benign, must not be)."""
        return self.start + DETECT_AT.get(self.name, DETECT_AFTER)


# name, detector, benign, summary (labels are filled from the cluster)
_TIMELINE: list[tuple[str, str, bool, str]] = [
    ("api-unauthorized-burst", "apiserver-unauthorized", False,
     "3 LIST pods/s refused with 403, 5 failed authentications/s (a stolen, weak token probing)"),
    ("api-403-trickle", "apiserver-unauthorized", True,
     "a misconfigured controller's usual 403 trickle rises to 0.1/s"),
    ("secrets-denied", "apiserver-secrets-denied", False,
     "GET/LIST on secrets refused with 403, 1.5/s"),
    ("secrets-read-burst", "apiserver-secrets-denied", True,
     "a legitimate burst of 15 successful secret reads/s (a rollout mounting secrets)"),
    ("rbac-escalation", "rbac-cluster-change", False,
     "a ClusterRoleBinding created and a ClusterRole patched (about 6 writes)"),
    ("namespaced-rbac-writes", "rbac-cluster-change", True,
     "namespaced RoleBindings written by a CI pipeline"),
    ("backdoor-ingress", "ingress-created", False,
     "a new Ingress shop/promo-backdoor appears"),
    ("old-ingress-new-path", "ingress-created", True,
     "the old Ingress shop/legacy gets a new path"),
    ("expiring-client-cert", "cert-expiry-apiserver-client", False,
     "a client uses a certificate that expires in 3 days"),
    ("client-cert-20d", "cert-expiry-apiserver-client", True,
     "a client uses a certificate that expires in 20 days"),
    ("expiring-certificate", "cert-expiry-certmanager", False,
     "cert-manager Certificate payments/legacy-pay-tls expires in 4 days (renewal failing)"),
    ("certificate-pending", "cert-expiry-certmanager", True,
     "a new Certificate shop/new-site-tls is pending issuance (expiration reported as 0)"),
    ("fingerprinting", "ingress-fingerprinting", False,
     "60% of requests to shop.example.com/ answered 404 (URL scanning)"),
    ("quiet-path-404", "ingress-fingerprinting", True,
     "a quiet path ops.example.com/admin gets 2 requests, both 404"),
    ("bruteforce", "ingress-bruteforce", False,
     "65% of logins on shop.example.com/login answered 403 (password spraying)"),
    ("quiet-path-403", "ingress-bruteforce", True,
     "a quiet path ops.example.com/admin gets 2 requests, both 403"),
    ("sqli", "ingress-sqli", False,
     "55% of requests to shop.example.com/api/search answered 500 (SQL injection attempts)"),
    ("quiet-path-500", "ingress-sqli", True,
     "a quiet path ops.example.com/admin gets 2 requests, both 500"),
    ("mass-extraction", "ingress-response-size-anomaly", False,
     "p99 response size on api.example.com/api/export jumps from ~30 kB to ~40 MB"),
    ("download-rush", "ingress-response-size-anomaly", True,
     "ten times the usual traffic on cdn.example.com/downloads, same (large) sizes"),
    ("inode-exhaustion", "volume-inode-anomaly", False,
     "media/uploads inodes go from 8% to 96% used (symlink/small-file flood)"),
    ("volumes-grow-together", "volume-inode-anomaly", True,
     "a restore job: every volume's inode usage rises by 10 points at once "
     "(and data/git-mirror is always the fullest, at 45%)"),
    ("crypto-miner", "container-cpu-outlier", False,
     "one thumbnailer pod burns 1.9 cores while its 4 siblings use 0.2"),
    ("thumbnailer-busy", "container-cpu-outlier", True,
     "all 5 thumbnailer pods busy at 1.6 cores (a batch of uploads)"),
    ("exfiltration", "pod-egress-outlier", False,
     "one payments-api pod sends 25 MB/s while its 2 siblings send 0.2 MB/s"),
    ("payments-batch-sync", "pod-egress-outlier", True,
     "all 3 payments-api pods send 8 MB/s (the nightly settlement sync)"),
    ("shell-burst", "falco-rule-burst", False,
     "Falco rule 'Terminal shell in container' matches 45 times in 5 minutes"),
    ("noisy-rule", "falco-rule-burst", True,
     "the usual 'Read sensitive file untrusted' noise: 8 matches in 5 minutes"),
    ("critical-binary", "falco-critical-events", False,
     "'Drop and execute new binary in container' (Critical) fires 12 times"),
    ("error-priority-events", "falco-critical-events", True,
     "'Modify binary dirs' (Error, below Critical) fires once a minute, 8 times"),
    ("sidekick-slack-down", "falco-output-errors", False,
     "falcosidekick fails every delivery to slack"),
    ("sidekick-transient-error", "falco-output-errors", True,
     "one failed delivery to elasticsearch among hundreds"),
    ("falco-drops", "falco-blind", False,
     "Falco on worker-3 drops 300 kernel events/s"),
    ("falco-restart", "falco-blind", True,
     "Falco on worker-2 restarts: its counters reset and it misses one scrape"),
    ("falco-gone", "falco-blind", False,
     "every Falco instance stops reporting (DaemonSet deleted) while pods keep running"),
    ("falco-scrape-gap", "falco-rule-burst", True,
     "Prometheus cannot scrape the busiest Falco for 8 minutes; its counters come back unchanged"),
    ("inode-filling", "volume-inode-anomaly", False,
     "a new volume shop/session-cache fills its inodes from 86% to 95% in 8 minutes, alone "
     "(the other volumes stay as they are)"),
    ("volume-full-but-steady", "volume-inode-anomaly", True,
     "a volume data/archive-restore restored from a snapshot at 92% of its inodes, growing "
     "0.1 point an hour"),
    ("slow-critical-event", "falco-critical-events", False,
     "'Detect release_agent File Container Escapes' (Critical) once a minute for 30 minutes"),
]
# incidents longer than one slot: name -> (seconds active, slots taken). Falco gone shows only
# once Prometheus's 5-minute lookback has lost its last samples, so it lasts 12 minutes: long
# enough to be seen at some step of any 5-minute sweep.
LONG = {"falco-gone": (720.0, 2), "slow-critical-event": (1800.0, 4)}


@dataclass
class Scenario:
    """The timeline of one lab: incidents, quiet times, the cluster and live repeats."""

    anchor: float
    cluster: Cluster
    incidents: list[Incident]
    quiet_times: list[float]
    live_start: float | None = None
    windows: dict[str, list[Window]] = field(default_factory=dict)

    @property
    def attacks(self) -> list[Incident]:
        return [i for i in self.incidents if not i.benign]

    @property
    def lookalikes(self) -> list[Incident]:
        return [i for i in self.incidents if i.benign]

    def incident(self, name: str) -> Incident:
        return next(i for i in self.incidents if i.name == name)

    def phase(self, name: str, t: float) -> float | None:
        """Seconds into the named incident at t (backfilled or live), or None if inactive."""
        for window in self.windows.get(name, ()):
            phase = window.phase(t)
            if phase is not None:
                return phase
        return None

    def active(self, name: str, t: float) -> bool:
        return self.phase(name, t) is not None

    def activation(self, name: str, t: float) -> float | None:
        """Start time of the named incident's activation covering t."""
        for window in self.windows.get(name, ()):
            if window.phase(t) is not None:
                return window.last_start(t)
        return None

    def last_activation(self, name: str, t: float) -> float | None:
        """Start of the most recent activation at or before t, active or not."""
        starts = [s for w in self.windows.get(name, ()) if (s := w.last_start(t)) is not None]
        return max(starts) if starts else None


def incident_labels(cluster: Cluster, at: float) -> dict[str, dict[str, str]]:
    """The identifying labels of each attack's finding, from the cluster at that time."""
    miner = cluster.pods_of("media", "thumbnailer", at)[0]
    exfil = cluster.pods_of("payments", "payments-api", at)[0]
    return {
        "api-unauthorized-burst": {"resource": "pods", "verb": "LIST"},
        "secrets-denied": {"resource": "secrets"},
        "rbac-escalation": {"resource": "clusterrolebindings"},
        "backdoor-ingress": {"namespace": "shop", "ingress": "promo-backdoor"},
        "expiring-client-cert": {},
        "expiring-certificate": {"namespace": "payments", "name": "legacy-pay-tls"},
        "fingerprinting": {"host": "shop.example.com", "path": "/"},
        "bruteforce": {"host": "shop.example.com", "path": "/login"},
        "sqli": {"host": "shop.example.com", "path": "/api/search"},
        "mass-extraction": {"host": "api.example.com", "path": "/api/export"},
        "inode-exhaustion": {"namespace": "media", "persistentvolumeclaim": "uploads"},
        "inode-filling": {"namespace": "shop", "persistentvolumeclaim": "session-cache"},
        "slow-critical-event": {"rule": "Detect release_agent File Container Escapes"},
        "crypto-miner": {"namespace": "media", "pod": miner.name},
        "exfiltration": {"namespace": "payments", "pod": exfil.name},
        "shell-burst": {"rule": "Terminal shell in container"},
        "critical-binary": {"rule": "Drop and execute new binary in container"},
        "sidekick-slack-down": {"destination": "slack"},
        "falco-drops": {"hostname": "worker-3"},
        "falco-gone": {},
    }


def build_scenario(
    cluster: Cluster, anchor: float, live_start: float | None, opening: float | None = None,
    rotation: int = 0,
) -> Scenario:
    """Lay the timeline into the 8 hours before the anchor; optionally repeat attacks live,
    and (`opening`) run OPENING once from that moment, before the live repeats begin.

    `rotation` k (the lab's k+1-th cluster) starts the timeline k pairs later, wrapping round,
    and the live repeats k attacks later: at any moment each cluster has its own incident.
    """
    first = anchor - 8 * HOUR
    labels = incident_labels(cluster, anchor)
    incidents: list[Incident] = []
    windows: dict[str, list[Window]] = {}
    slot = 0
    turn = 2 * rotation % len(_TIMELINE)
    for name, detector, benign, summary in _TIMELINE[turn:] + _TIMELINE[:turn]:
        start = first + slot * SLOT
        active, slots = LONG.get(name, (ACTIVE, 1))
        slot += slots
        incidents.append(
            Incident(name, detector, benign, start, start + active, labels.get(name, {}), summary)
        )
        windows[name] = [Window(start, active)]
    for event in day.DAY_EVENTS:
        start = day.start_of(event.name, anchor)
        incidents.append(Incident(event.name, event.detector, True, start, start + event.duration,
                                  {}, event.summary))
        windows[event.name] = [Window(start, event.duration)]
    if live_start is not None:
        attacks = [name for name, _d, benign, _s in _TIMELINE if not benign]
        period = LIVE_EVERY * len(attacks)
        for i, name in enumerate(attacks):
            place = (i - rotation) % len(attacks)
            windows[name].append(Window(live_start + place * LIVE_EVERY, LIVE_ACTIVE, period))
        if opening is not None:
            windows[OPENING].append(Window(opening, LIVE_ACTIVE))
    quiet = [anchor - 9 * HOUR, anchor - 20 * HOUR - 1800, anchor - 2 * DAY - 3 * HOUR,
             anchor - 5 * DAY - 7 * HOUR]
    return Scenario(anchor, cluster, incidents, quiet, live_start, windows)
