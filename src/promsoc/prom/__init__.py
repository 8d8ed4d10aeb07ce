"""Prometheus HTTP API: async client, typed results and errors, selector scoping, many sources."""

from promsoc.prom.client import PromClient
from promsoc.prom.errors import (
    AuthRefused,
    BadQuery,
    MalformedResponse,
    PromError,
    ResponseTooLarge,
    ServerError,
    Timeout,
    Unreachable,
)
from promsoc.prom.selector import SelectorError, inject_matchers
from promsoc.prom.sources import Sources, client_for
from promsoc.prom.types import InstantResult, RangeResult, RangeSeries, Sample

__all__ = [
    "AuthRefused",
    "BadQuery",
    "InstantResult",
    "MalformedResponse",
    "PromClient",
    "PromError",
    "RangeResult",
    "RangeSeries",
    "ResponseTooLarge",
    "Sample",
    "SelectorError",
    "ServerError",
    "Sources",
    "Timeout",
    "Unreachable",
    "client_for",
    "inject_matchers",
]
