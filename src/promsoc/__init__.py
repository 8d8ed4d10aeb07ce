"""promsoc: a terminal console for defending Kubernetes clusters with Prometheus metrics."""

__version__ = "0.1.0"
