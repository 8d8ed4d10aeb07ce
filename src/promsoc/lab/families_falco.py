"""Falco's three generations of metrics: native, falco-exporter, falcosidekick (both namings)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from promsoc.lab import day
from promsoc.lab.cluster import Cluster, Node
from promsoc.lab.families_k8s import burst, pod_named
from promsoc.lab.families_traffic import PRIORITY_NAMES, sidekick_priority
from promsoc.lab.scenario import Scenario
from promsoc.lab.series import TRAFFIC, Series, ValueFn, constant, stable_seed, steady

FALCO_VERSION = "0.39.2"
LATE_FALCO = "worker-5"  # the node whose Falco Prometheus first scrapes during the day
DESTINATIONS = ("slack", "elasticsearch", "loki")


@dataclass(frozen=True)
class Stream:
    """Matches of one Falco rule in one pod (on that pod's node)."""

    rule: str
    priority: int  # Falco's numbering: 0 Emergency .. 7 Debug
    tags: tuple[str, ...]
    host: str
    namespace: str
    pod: str
    rate: ValueFn
    start: float = -math.inf


def _streams(cluster: Cluster, scenario: Scenario) -> list[Stream]:
    at = scenario.anchor
    prom = pod_named(cluster, "monitoring", "prometheus", at)
    grafana = pod_named(cluster, "monitoring", "grafana", at)
    web = pod_named(cluster, "shop", "storefront", at)
    miner = next(p for p in cluster.pods_at(at) if p.name == scenario.incident("crypto-miner").labels["pod"])
    etl = pod_named(cluster, "data", "etl-worker", at)
    shell = scenario.incident("shell-burst").start
    critical = scenario.incident("critical-binary").start
    modify = scenario.incident("error-priority-events").start
    escape = scenario.incident("slow-critical-event").start
    api = pod_named(cluster, "payments", "payments-api", at)
    # not grafana's pod (another cluster's inventory may put it there): one series per rule and pod
    late = next(p for p in cluster.pods_at(at)
                if p.node == LATE_FALCO and not p.workload.host_network and p.name != grafana.name)
    return [
        Stream("Contact K8S API Server From Container", 5, ("network", "k8s", "mitre_discovery"),
               late.node, late.namespace, late.name, constant(0.01), late.start),
        Stream("Read sensitive file untrusted", 4, ("filesystem", "mitre_credential_access"),
               prom.node, prom.namespace, prom.name,
               burst(scenario, "noisy-rule", 0.02, constant(0.0067))),
        Stream("Contact K8S API Server From Container", 5, ("network", "k8s", "mitre_discovery"),
               grafana.node, grafana.namespace, grafana.name, constant(0.003)),
        Stream("Terminal shell in container", 5, ("container", "shell", "mitre_execution"),
               web.node, web.namespace, web.name, burst(scenario, "shell-burst", 0.15), shell),
        Stream("Drop and execute new binary in container", 2,
               ("container", "process", "mitre_persistence", "TA0003"),
               miner.node, miner.namespace, miner.name, burst(scenario, "critical-binary", 0.04), critical),
        Stream("Modify binary dirs", 3, ("filesystem", "mitre_persistence"),
               etl.node, etl.namespace, etl.name, burst(scenario, "error-priority-events", 1 / 60), modify),
        Stream("Detect release_agent File Container Escapes", 2,
               ("container", "process", "mitre_privilege_escalation", "T1611"),
               api.node, api.namespace, api.name, burst(scenario, "slow-critical-event", 1 / 60), escape),
    ]


def _sum_of(streams: list[Stream]) -> ValueFn:
    return lambda t: sum(s.rate(t) for s in streams)


def _segments(node: Node, scenario: Scenario) -> list[tuple[float, float]]:
    """A Falco instance's lifetimes, cut by its restarts: the benign one on worker-2 and the
    DaemonSet upgrade that restarts every node's Falco in turn (a minute without metrics)."""
    cuts = [scenario.incident("falco-upgrade").start + 90 * node.index]
    if node.name == "worker-2":
        cuts.append(scenario.incident("falco-restart").start + 120)
    segments, start = [], node.start
    for cut in sorted(cuts):
        if start < cut < node.end:
            segments.append((start, cut))
            start = cut + 60
    return [*segments, (start, node.end)]


def falco(cluster: Cluster, scenario: Scenario) -> list[Series]:
    streams = _streams(cluster, scenario)

    noisy_node = streams[0].host  # the node whose Falco has the largest counters

    def gone(t: float) -> bool:
        return scenario.active("falco-gone", t)

    def unreachable(t: float) -> bool:
        if scenario.active("falco-gone", t):
            return True
        return scenario.active("falco-scrape-gap", t)

    out: list[Series] = []
    for node in cluster.nodes:
        hidden = unreachable if node.name == noisy_node else gone
        native = {"job": "falco", "instance": f"{node.internal_ip}:8765"}
        exporter = {"job": "falco-exporter", "instance": f"{node.internal_ip}:9376"}
        on_node = [s for s in streams if s.host == node.name]
        # Prometheus scrapes worker-5's Falco only from the day's falco-first-scrape on
        scraped = day.start_of("falco-first-scrape", scenario.anchor) if node.name == LATE_FALCO else -math.inf
        for start, end in _segments(node, scenario):
            def add(name: str, labels: dict[str, str], fn: ValueFn, counter: bool = True,
                    from_: float = start, start: float = start, end: float = end,
                    hide: Callable[[float], bool] = hidden, scraped: float = scraped) -> None:
                began = max(start, from_)
                first = max(began, scraped)
                if first >= end:
                    return
                initial = fn(first) * (first - began) if counter and first > began else 0.0
                out.append(Series(name, labels, fn, counter, TRAFFIC, first, end,
                                  hidden=hide, integer=counter, initial=initial))

            seed = stable_seed(node.name)
            add("falcosecurity_scap_n_evts_total", native, steady(40000.0, seed))
            drops = burst(scenario, "falco-drops", 300.0) if node.name == "worker-3" else constant(0.0)
            add("falcosecurity_scap_n_drops_total", native, drops)
            add("falcosecurity_falco_outputs_queue_num_drops_total", native, constant(0.0))
            add("falcosecurity_evt_hostname_info", {**native, "hostname": node.name}, constant(1.0), False)
            add("falcosecurity_falco_version_info", {**native, "version": FALCO_VERSION}, constant(1.0),
                False)
            for rule in sorted({s.rule for s in on_node}):
                mine = [s for s in on_node if s.rule == rule]
                tags = {f"tag_{t}": "true" for t in mine[0].tags}
                add("falcosecurity_falco_rules_matches_total",
                    {**native, "rule_name": rule, "priority": str(mine[0].priority), "source": "syscall",
                     **tags}, _sum_of(mine),
                    from_=min(s.start for s in mine))
            for s in on_node:
                add("falco_events", {**exporter, "rule": s.rule, "priority": str(s.priority),
                                     "hostname": node.name, "source": "syscall",
                                     "k8s_ns_name": s.namespace, "k8s_pod_name": s.pod,
                                     "tags": "," + ",".join(s.tags) + ","}, s.rate, from_=s.start)
    return out


def falcosidekick(cluster: Cluster, scenario: Scenario, *, legacy: bool = False) -> list[Series]:
    """falcosidekick's metrics: the >= 2.30 names by default, the < 2.30 ones with legacy=True."""
    streams = _streams(cluster, scenario)
    sk = pod_named(cluster, "falco", "falcosidekick", scenario.anchor)
    base = {"job": "falcosidekick", "instance": f"{sk.pod_ip}:2801"}
    out: list[Series] = []

    def total(t: float) -> float:
        return 0.0 if scenario.active("falco-gone", t) else sum(s.rate(t) for s in streams)

    for s in streams:
        labels = {**base, "rule": s.rule, "hostname": s.host, "source": "syscall",
                  "k8s_ns_name": s.namespace, "k8s_pod_name": s.pod}
        if legacy:
            labels["priority"] = PRIORITY_NAMES[s.priority]
            name = "falco_events"
        else:
            labels["priority"] = str(sidekick_priority(s.priority))
            labels["priority_raw"] = PRIORITY_NAMES[s.priority].lower()
            name = "falcosecurity_falcosidekick_falco_events_total"
        out.append(Series(name, labels, s.rate, True, TRAFFIC, s.start, integer=True))
    outputs = "falcosidekick_outputs" if legacy else "falcosecurity_falcosidekick_outputs_total"
    inputs = "falcosidekick_inputs" if legacy else "falcosecurity_falcosidekick_inputs_total"
    slack_down = scenario.incident("sidekick-slack-down").start
    transient = scenario.incident("sidekick-transient-error").start
    for dest in DESTINATIONS:
        def ok(t: float, dest: str = dest) -> float:
            failing = dest == "slack" and scenario.active("sidekick-slack-down", t)
            return 0.0 if failing else total(t)

        out.append(Series(outputs, {**base, "destination": dest, "status": "ok"}, ok, True, TRAFFIC,
                          integer=True))
        if dest == "slack":
            def failed(t: float) -> float:
                return total(t) + 0.2 if scenario.active("sidekick-slack-down", t) else 0.0

            out.append(Series(outputs, {**base, "destination": dest, "status": "error"}, failed, True,
                              TRAFFIC, slack_down, integer=True))
        if dest == "elasticsearch":
            out.append(Series(outputs, {**base, "destination": dest, "status": "error"},
                              burst(scenario, "sidekick-transient-error", 1.5 / 480), True, TRAFFIC,
                              transient, integer=True))
    out.append(Series(inputs, {**base, "source": "falco", "status": "accepted"}, total, True, TRAFFIC,
                      integer=True))
    return out
