"""Prometheus's own record of its alerting rules, for the alerts view at a past moment."""

from __future__ import annotations

FIRING = "ALERTS"
"""Every alert of every rule at the evaluation time, `alertstate` firing or pending."""
ACTIVE_SINCE = "ALERTS_FOR_STATE"
"""The same alerts (without `alertstate`), valued with the Unix time each became active."""

__all__ = ["ACTIVE_SINCE", "FIRING"]
