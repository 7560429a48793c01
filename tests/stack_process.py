"""The whole stack as an operator runs it: `callcenter` commands in processes of their own,
on a database, Asterisk instance, ports and Redis prefix of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``callcenter <args>`` with ``env`` over this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


def stack_environment(database_url: str, state_dir: Path, name: str) -> dict[str, str]:
    """The CC_* variables of a stack called ``name`` (its instance and Redis prefix)."""
    return {
        "CC_DATABASE_URL": database_url,
        "CC_STATE_DIR": str(state_dir),
        "CC_ASTERISK_INSTANCE": name,
        "CC_AMI_PORT": str(free_port()),
        "CC_SIP_PORT": str(free_port()),
        "CC_ASTERISK_HTTP_PORT": str(free_port()),
        "CC_AGI_PORT": str(free_port()),
        "CC_DESK_PORT": str(free_port()),
        "CC_CONTROLLER_METRICS_PORT": str(free_port()),
        "CC_WORKER_METRICS_PORT": str(free_port()),
        "CC_DESK_REDIS_PREFIX": name,
    }
