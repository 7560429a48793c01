"""Bad settings fail with one line that names the environment variable to fix."""

from __future__ import annotations

import pytest

from backend.errors import ConfigError
from backend.settings import DEV_DATA_KEY, load_settings


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
    assert "CC_AMI_CONTROLLER_SECRET" in str(err.value)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_DESK_PORT", "9191")
    assert load_settings().desk_port == 9191


def test_recordings_path_maps_into_the_chroot() -> None:
    settings = load_settings(asterisk_root="/srv/root", asterisk_instance="x")
    assert str(settings.effective_recordings_dir) == "/srv/root/srv/callcenter/x/recordings"


def test_softphone_connects_to_asterisks_own_listener_unless_told_otherwise() -> None:
    plain = load_settings(asterisk_http_port=8123)
    assert plain.effective_phone_ws_url == "ws://127.0.0.1:8123/ws"
    assert plain.effective_phone_domain == plain.sip_bind
    secure = load_settings(
        asterisk_https_port=8443, asterisk_tls_cert="/k/desk.pem", asterisk_tls_key="/k/desk.key"
    )
    assert secure.effective_phone_ws_url == "wss://127.0.0.1:8443/ws"
    proxied = load_settings(phone_ws_url="wss://sip.example.cn/ws", phone_domain="sip.example.cn")
    assert proxied.effective_phone_ws_url == "wss://sip.example.cn/ws"
    assert proxied.effective_phone_domain == "sip.example.cn"


def test_softphone_address_must_be_a_websocket_url() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(phone_ws_url="http://sip.example.cn/ws")
    assert "CC_PHONE_WS_URL" in str(err.value)


def test_an_unknown_time_zone_names_its_variable() -> None:
    # It used to be accepted here and fail later, in whichever process first needed it.
    with pytest.raises(ConfigError, match=r"^setting CC_TIMEZONE: .*no such time zone"):
        load_settings(timezone="Asia/Peking")
    assert load_settings(timezone="Asia/Urumqi").timezone == "Asia/Urumqi"


def test_settings_survive_a_dump_and_validation_round_trip() -> None:
    # tests/sip_fixtures.variant_settings builds a second Asterisk's settings this way.
    settings = load_settings(timezone="Asia/Urumqi")
    again = type(settings).model_validate(settings.model_dump())
    assert again.booking == settings.booking and again.workorder == settings.workorder
    assert again.booking.timezone == "Asia/Urumqi"


def test_production_needs_a_look_up_key_apart_from_the_newest_data_key() -> None:
    keys = {
        "ami_controller_secret": "a-real-controller-secret",
        "ami_desk_secret": "a-real-desk-secret",
        "secret_key": "a-real-secret-key",
    }
    new, old = "bmV3LWRhdGEta2V5LW5ldy1kYXRhLWtleS1uZXctMDE=", DEV_DATA_KEY
    for lookup in ("", new):
        with pytest.raises(ConfigError) as err:
            load_settings(environment="production", data_key=new, lookup_key=lookup, **keys)
        assert "CC_LOOKUP_KEY" in str(err.value)
    with pytest.raises(ConfigError) as dev:  # the development key is in the list
        load_settings(environment="production", data_key=f"{new},{old}", lookup_key=old, **keys)
    assert "CC_DATA_KEY" in str(dev.value)
    other = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktISE="
    assert load_settings(
        environment="production", data_key=f"{new},{other}", lookup_key=other, **keys
    )


def test_the_shared_ami_user_of_earlier_releases_is_refused_naming_its_successors() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(ami_secret="old-shared-secret")
    assert "CC_AMI_CONTROLLER_SECRET and CC_AMI_DESK_SECRET" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_settings(ami_controller_username="cc", ami_desk_username="cc")
    assert "CC_AMI_DESK_USERNAME" in str(err.value)


def test_production_wants_a_real_and_different_secret_for_each_ami_user() -> None:
    others = {
        "environment": "production",
        "secret_key": "a-real-secret-key",
        "data_key": "cmVhbC1kYXRhLWtleS1mb3ItcHJvZHVjdGlvbi11c2U=",
        "lookup_key": "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktISE=",
    }
    with pytest.raises(ConfigError) as err:
        load_settings(ami_controller_secret="real-one", **others)
    assert "CC_AMI_DESK_SECRET" in str(err.value) and "development default" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_settings(ami_controller_secret="same", ami_desk_secret="same", **others)
    assert "must differ from CC_AMI_CONTROLLER_SECRET" in str(err.value)
    load_settings(ami_controller_secret="one", ami_desk_secret="two", **others)
