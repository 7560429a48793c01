"""Bad settings fail with one line that names the environment variable to fix."""

from __future__ import annotations

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings


def test_non_postgres_database_url_names_the_setting() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(database_url="mysql://root@localhost/cc")
    assert str(err.value).startswith("setting CC_DATABASE_URL:")
    assert "postgresql" in str(err.value)


def test_port_out_of_range_names_the_setting() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(ami_port=70000)
    assert "CC_AMI_PORT" in str(err.value)


def test_plain_postgresql_url_is_given_the_psycopg_driver() -> None:
    settings = load_settings(database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environment="production")
    assert "CC_AMI_SECRET" in str(err.value)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_DESK_PORT", "9191")
    assert load_settings().desk_port == 9191


def test_recordings_path_maps_into_the_chroot() -> None:
    settings = load_settings(asterisk_root="/srv/root", asterisk_instance="x")
    assert str(settings.effective_recordings_dir) == "/srv/root/srv/callcenter/x/recordings"
