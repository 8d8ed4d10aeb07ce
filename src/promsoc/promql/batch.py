"""Many instant queries as one: each part's series tagged with its key (see detectors/batch.py)."""

from __future__ import annotations

from collections.abc import Mapping

BATCH_LABEL = "promsoc_detector"


def combine(queries: Mapping[str, str]) -> str:
    """One query whose series carry `promsoc_detector=<key>`."""
    return " or ".join(
        f'label_replace(({promql}), "{BATCH_LABEL}", "{key}", "", "")'
        for key, promql in queries.items()
    )
