"""The Falco summary the domain builds for the console, against the lab's real Prometheus."""

from __future__ import annotations

from promsoc.detectors.falco_view import falco_summary
from promsoc.lab import Lab
from promsoc.prom.client import PromClient


async def test_a_shell_burst_tops_the_rules_and_slack_failing_shows_in_deliveries(lab: Lab) -> None:
    burst = lab.scenario.incident("shell-burst")
    slack = lab.scenario.incident("sidekick-slack-down")
    async with PromClient.from_url(lab.url) as client:
        during = await falco_summary(client, burst.eval_at, 3600.0, 60.0)
        failing = await falco_summary(client, slack.eval_at, 3600.0, 60.0)
    assert during.top_rules and during.top_rules[0].rule == "Terminal shell in container"
    assert during.top_rules[0].now >= 45 > during.top_rules[0].day_ago
    assert "Terminal shell in container" in during.by_rule
    assert all(name == name.lower() for name in during.by_priority)  # normalised across generations
    assert during.instances and during.instances > 0 and not during.notes
    assert any(d.destination == "slack" and d.error > 0 for d in failing.deliveries)
