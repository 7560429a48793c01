"""Bad settings give one clear line naming the setting, and a non-zero exit, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], setting: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: setting {setting}:"), lines[0]
    assert "Traceback" not in result.stderr


def test_wrong_database_url() -> None:
    result = run_cli("db", "upgrade", CC_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    assert_one_line_error(result, "CC_DATABASE_URL")


def test_database_url_of_another_kind() -> None:
    result = run_cli("db", "upgrade", CC_DATABASE_URL="sqlite:///x.db")
    assert_one_line_error(result, "CC_DATABASE_URL")


def test_wrong_redis_url(tmp_path: Path) -> None:
    result = run_cli("up", CC_REDIS_URL="redis://127.0.0.1:1/0", CC_STATE_DIR=str(tmp_path))
    assert_one_line_error(result, "CC_REDIS_URL")


def test_asterisk_root_missing(tmp_path: Path) -> None:
    result = run_cli("asterisk", "start", CC_ASTERISK_ROOT=str(tmp_path / "nothing"))
    assert_one_line_error(result, "CC_ASTERISK_ROOT")
    assert "callcenter asterisk build" in result.stderr


def test_ami_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "asterisk", "start", CC_AMI_PORT=str(port), CC_ASTERISK_INSTANCE="porttest"
        )
    assert_one_line_error(result, "CC_AMI_PORT")
    assert f"port {port}" in result.stderr


def test_port_number_out_of_range() -> None:
    result = run_cli("status", CC_DESK_PORT="99999")
    assert_one_line_error(result, "CC_DESK_PORT")


def test_desk_workers_out_of_range() -> None:
    assert_one_line_error(run_cli("desk", CC_DESK_WORKERS="0"), "CC_DESK_WORKERS")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CC_BOOKING_QUOTA_DAY", "three"), ("CC_WORKORDER_HANDLE_WORKING_DAYS", "soon")],
)
def test_a_wrong_rule_stops_the_desk_before_any_worker_starts(variable: str, value: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = run_cli("desk", CC_DESK_PORT=port, CC_DESK_WORKERS="2", **{variable: value})
    assert_one_line_error(result, variable)


def test_db_upgrade_creates_a_missing_database_on_a_reachable_server() -> None:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"cc_fresh_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        result = run_cli("db", "upgrade", CC_DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert f"created database {name}" in result.stdout
        again = run_cli("db", "upgrade", CC_DATABASE_URL=url)
        assert again.returncode == 0 and "created database" not in again.stdout
    finally:
        admin = create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
