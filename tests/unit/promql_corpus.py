"""Every PromQL string the built-in packs make a source ask: each detector's query and signal (raw
and read from the recording rules), its sparkline's and chart's queries, the presence checks and
the batch of light detectors (shared by the rewriter's unit and lab tests)."""

from __future__ import annotations

from promsoc.detectors.batch import is_heavy
from promsoc.detectors.charts import chart_plan
from promsoc.detectors.engine import detectors_presence_query, query_for, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.promql import recording
from promsoc.promql.batch import combine


def pack_queries() -> dict[str, str]:
    """name -> PromQL, e.g. `ingress-sqli.spark.signal`."""
    detectors = load_detectors(include_disabled=True)
    found: dict[str, str] = {}
    for det in detectors:
        found[f"{det.id}.query"] = det.query
        found[f"{det.id}.recorded"] = query_for(det, True)
        if det.signal:
            found[f"{det.id}.signal"] = det.signal
        spark = sparkline_plan(det)
        for name in ("signal", "edge", "fired"):
            if getattr(spark, name):
                found[f"{det.id}.spark.{name}"] = getattr(spark, name)
        chart = chart_plan(det, {})
        for name in ("signal", "fired", "threshold"):
            if getattr(chart, name, None):
                found[f"{det.id}.chart.{name}"] = getattr(chart, name)
        for index, band in enumerate(b for b in (chart.own, *chart.extra) if b is not None):
            for side in ("upper", "lower"):
                if getattr(band, side):
                    found[f"{det.id}.chart.band{index}.{side}"] = getattr(band, side)
    found["presence"] = detectors_presence_query(detectors) or ""
    found["recording.presence"] = recording.presence_query(recorded_blocks(detectors, presence=True))
    found["batch"] = combine({det.id: det.query for det in detectors if not is_heavy(det.query)})
    return found


def constant_vector(promql: str) -> bool:
    """`vector(<number>)`: a threshold line, answered by the range cache without asking."""
    text = promql.strip()
    return text.startswith("vector(") and text.endswith(")") and "(" not in text[7:]
