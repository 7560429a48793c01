"""Rendering asterisk_conf/ for an instance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from ivr.pbx import render


def test_settings_reach_the_rendered_files() -> None:
    settings = load_settings(ami_port=6038, agi_port=4999, asterisk_instance="t1")
    files = render.render(settings).files
    assert "port = 6038" in files["manager.conf"]
    assert "CONTROLLER=agi://127.0.0.1:4999" in files["extensions.conf"]
    assert "astetcdir => /srv/callcenter/t1/etc" in files["asterisk.conf"]
    leftovers = [m for text in files.values() for m in render.PLACEHOLDER.findall(text)]
    assert leftovers == []


def test_unknown_placeholder_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.conf").write_text("port = @NO_SUCH_THING@\n")
    with pytest.raises(ConfigError) as err:
        render.render(load_settings(), tmp_path)
    assert "asterisk_conf/x.conf" in str(err.value)
    assert "@NO_SUCH_THING@" in str(err.value)


def test_dialplan_passes_asterisklint(tmp_path: Path) -> None:
    render.write(render.render(load_settings()), tmp_path)
    lint = Path(sys.executable).with_name("asterisklint")
    result = subprocess.run(
        [str(lint), "dialplan-check", "extensions.conf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout
