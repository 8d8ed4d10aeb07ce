"""Falco's three metric generations normalised to one view: rule, priority name, count.

Falco native (>= 0.39), falco-exporter and falcosidekick (< 2.30 and >= 2.30) name the
same events differently, and the numeric priority scales run in opposite directions
(Falco: 0 Emergency .. 7 Debug; falcosidekick >= 2.30: 0 Default, 1 Debug .. 8 Emergency).
Every generation is summed on its own, normalised to `rule` and a lower-case `priority`
name, and the generations are combined with `max by (rule, priority)`: a cluster that runs
Falco native metrics, falco-exporter and falcosidekick side by side sees each event three
times, and counting it once per generation would triple every burst.
"""

from __future__ import annotations

from collections.abc import Sequence

from promsoc.promql.fragments import increase_new, label_filter

# Falco's own order: the index is Falco's (and falco-exporter's) numeric priority.
PRIORITIES = (
    "emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug",
)
CRITICAL_OR_WORSE = ("emergency", "alert", "critical")
# falcosidekick >= 2.30 numbers the other way round, with 0 for "Default".
SIDEKICK_NUMBERS = {8: "emergency", 7: "alert", 6: "critical", 5: "error", 4: "warning",
                    3: "notice", 2: "informational", 1: "debug", 0: "default"}
_ALIASES = {"informational": ("info",)}
# Families the same endpoint exports from its start, before its first rule match or delivery:
# they show a target was already reporting when a counter first appears (fragments.increase_new).
NATIVE_HEARTBEATS = ("falcosecurity_scap_n_evts_total", "falcosecurity_evt_hostname_info")
SIDEKICK_HEARTBEATS = ("falcosecurity_falcosidekick_inputs_total",)


def _names_pattern(name: str) -> str:
    words = (name, *_ALIASES.get(name, ()))
    return "|".join(v for w in words for v in (w, w.capitalize(), w.upper()))


def normalise_priority(
    expr: str, numeric: str = "falco", names: Sequence[str] = PRIORITIES
) -> str:
    """Rewrite the `priority` label to a lower-case name.

    numeric="falco" reads numbers on Falco's scale, "sidekick" on falcosidekick >= 2.30's,
    "none" only names (any case). One label_replace per name matches its spellings and its
    number together (each node costs the server a pass and the query text a few dozen bytes).
    With `names`, only those priorities are rewritten; the others keep their raw spelling,
    for callers that keep only those names anyway.
    """
    numbers = {name: str(number) for number, name in enumerate(PRIORITIES)}
    if numeric == "sidekick":
        numbers = {name: str(number) for number, name in SIDEKICK_NUMBERS.items()}
    for name in names:
        pattern = _names_pattern(name)
        if numeric in ("falco", "sidekick"):
            pattern += "|" + numbers[name]
        expr = f'label_replace({expr}, "priority", "{name}", "priority", "{pattern}")'
    if numeric == "sidekick" and tuple(names) == PRIORITIES:
        expr = f'label_replace({expr}, "priority", "default", "priority", "{numbers["default"]}")'
    return expr


def _keep_raw(expr: str) -> str:
    """Copy the raw priority aside so two raw spellings never collide after normalising."""
    return f'label_replace({expr}, "raw_priority", "$1", "priority", "(.*)")'


def _generation(expr: str, name: str) -> str:
    return f'label_replace({expr}, "generation", "{name}", "", "")'


def matches(window: str = "{{ window }}", names: Sequence[str] = PRIORITIES) -> str:
    """Falco events per (rule, priority) over `window`, counted once across generations.

    With `names`, priorities outside them keep their raw spelling (see normalise_priority).
    """
    native = (
        "sum by (rule, priority) (label_replace("
        + increase_new("falcosecurity_falco_rules_matches_total", window, NATIVE_HEARTBEATS)
        + ', "rule", "$1", "rule_name", "(.*)"))'
    )
    # falco_events: falco-exporter (numeric priority) and falcosidekick < 2.30 (names).
    legacy = "sum by (rule, priority) (" + increase_new("falco_events", window, ("falcosidekick_inputs",)) + ")"
    sidekick = (
        "sum by (rule, priority, priority_raw) ("
        + increase_new(
            "falcosecurity_falcosidekick_falco_events_total", window, SIDEKICK_HEARTBEATS
        )
        + ")"
    )
    sidekick_named = (
        'label_replace(' + normalise_priority(_keep_raw(sidekick), "sidekick", names)
        + ', "priority", "$1", "priority_raw", "(.+)")'
    )
    # Native and falco_events share Falco's scale: tagged first (so neither hides the other in
    # `or`), then normalised by one chain.
    falco_scale = (
        "(" + _generation(_keep_raw(native), "native")
        + " or " + _generation(_keep_raw(legacy), "falco_events") + ")"
    )
    generations = [
        normalise_priority(falco_scale, "falco", names),
        _generation(normalise_priority(sidekick_named, "none", names), "falcosidekick"),
    ]
    return "max by (rule, priority) (" + " or ".join(generations) + ")"


def critical_matches(window: str = "{{ window }}") -> str:
    """Falco events of priority Critical or worse per (rule, priority).

    Only those three names are normalised: any other priority is dropped by the filter anyway.
    """
    counted = matches(window, CRITICAL_OR_WORSE)
    return f"({counted}) and on (priority) {label_filter('priority', CRITICAL_OR_WORSE)}"


def outputs(status: str | None, window: str = "{{ window }}") -> str:
    """falcosidekick deliveries per destination (optionally one status), max across generations."""
    match = f'{{status="{status}"}}' if status else ""
    parts = [
        _generation(
            "sum by (destination) ("
            + increase_new(f"{metric}{match}", window, (metric, heartbeat))
            + ")",
            gen,
        )
        for metric, heartbeat, gen in (
            ("falcosecurity_falcosidekick_outputs_total", SIDEKICK_HEARTBEATS[0], "v2"),
            ("falcosidekick_outputs", "falcosidekick_inputs", "legacy"),
        )
    ]
    return "max by (destination) (" + " or ".join(parts) + ")"


DROPS = "falcosecurity_scap_n_drops_total"
INSTANCE_INFO = "falcosecurity_evt_hostname_info"

# Families that show Falco itself (not falcosidekick, which outlives it) is reporting.
HEARTBEATS = (
    "falcosecurity_evt_hostname_info",
    "falcosecurity_scap_n_evts_total",
    "falcosecurity_falco_version_info",
    "falcosecurity_falco_rules_matches_total",
    "falco_events",
)


def dropped(window: str) -> str:
    """Kernel events Falco dropped over `window`, per instance: any drop blinds it (the Falco view)."""
    return f"sum without () ({increase_new(DROPS, window)})"


def instances() -> str:
    """One series per Falco instance reporting now, by its hostname info metric (the Falco view)."""
    return f"group by (hostname) ({INSTANCE_INFO})"


def macros() -> dict[str, str]:
    """The Falco macros the packs use."""
    return {
        "falco_matches": matches(),
        "falco_critical_matches": critical_matches(),
        "falcosidekick_output_errors": outputs("error"),
        "falcosidekick_outputs": outputs(None),
        "falco_heartbeat_names": "|".join(HEARTBEATS),
    }
