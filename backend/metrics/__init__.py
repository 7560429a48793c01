"""Prometheus metrics of every service (docs/metrics.md): what each counts is defined once in
``definitions``; ``exposition`` serves them, across processes where a service has several."""
