"""Every PromQL string promsoc sends is built here: bands, pack fragments, Falco's generations,
presence checks, batching, and the topology's snapshot and traffic queries.

Pure string builders (no I/O, no client): the detectors, the topology and the console's
charts call them, so a chart draws exactly what a detector judges.
"""
