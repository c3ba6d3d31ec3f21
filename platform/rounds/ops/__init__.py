"""Running Rounds as a service: readiness checks (``/api/ready``, ``rounds doctor``) and
Prometheus metrics (``/metrics``). See docs/health-and-metrics.md."""
