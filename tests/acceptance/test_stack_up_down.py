"""`callcenter up` starts the whole stack and prints the desk URL; `callcenter down` stops it."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest

from backend.migrate import scratch_database
from backend.settings import load_settings, port_is_free
from callcenter.cli.processes import ProcessTable
from ivr.pbx.instance import AsteriskInstance
from tests.conftest import ADMIN_URL
from tests.stack_process import run_cli, stack_environment

pytestmark = pytest.mark.asterisk


@pytest.fixture()
def stack_database(run_id: str) -> Iterator[str]:
    """Its own database: the demo data it loads must not meet other tests' data."""
    with scratch_database(ADMIN_URL, f"cc_stack_{run_id}") as url:
        yield url


def test_up_starts_every_service_and_down_stops_them_all(
    stack_database: str, run_id: str, tmp_path: Path
) -> None:
    env = stack_environment(stack_database, tmp_path, f"stack-{run_id}")
    stack = load_settings(**{k.removeprefix("CC_").lower(): v for k, v in env.items()})
    table = ProcessTable(tmp_path)
    try:
        seeded = run_cli(env, "demo-data")
        assert seeded.returncode == 0, seeded.stderr
        up = run_cli(env, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        desk = f"http://127.0.0.1:{env['CC_DESK_PORT']}/"
        assert f"Agent desk: {desk}" in up.stdout
        with urllib.request.urlopen(desk + "healthz", timeout=5) as response:
            assert response.status == 200
        assert demo_supervisor_signs_in(desk, seeded.stdout) == "ready"
        for service in ("controller", "desk", "worker", "beat"):
            assert table.pid(service) is not None, service
        assert not port_is_free("127.0.0.1", stack.agi_port)
        assert AsteriskInstance(stack).status().fully_booted
        status = run_cli(env, "status")
        assert status.stdout.count("running") == 5, status.stdout
        # The controller's supervised loops and their restarts (backend/supervision.py).
        assert "loop dispatcher: 0 restarts" in status.stdout, status.stdout
    finally:
        down = run_cli(env, "down")
    assert down.returncode == 0, down.stderr
    for service in ("controller", "desk", "worker", "beat"):
        assert table.pid(service) is None, service
    assert not AsteriskInstance(stack).status().running
    assert port_is_free("127.0.0.1", stack.agi_port)
    assert port_is_free("127.0.0.1", stack.desk_port)
    shutil.rmtree(AsteriskInstance(stack).dir, ignore_errors=True)


def demo_supervisor_signs_in(desk: str, printed: str) -> str:
    """The demo's supervisor with the printed password and a code of the printed secret."""
    password = printed.split("(password ", 1)[1].split(")", 1)[0]
    secret = printed.split("TOTP code of the secret ", 1)[1].split()[0]
    with httpx.Client(base_url=desk, timeout=10) as client:
        login = client.post(
            "/api/auth/login", json={"username": "supervisor", "password": password}
        )
        assert login.json()["stage"] == "totp", login.text
        code = pyotp.TOTP(secret).now()
        return str(client.post("/api/auth/totp", json={"code": code}).json()["stage"])
