"""The alert rules load, and each fires on the series that should raise it (promtool's own
rule tests, docker/prometheus/alerts.test.yml); the example Prometheus configuration loads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "docker" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: make setup installs Debian's prometheus package"
    return subprocess.run(
        [tool, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 11 rules found" in result.stdout


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_example_prometheus_configuration_loads() -> None:
    result = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
