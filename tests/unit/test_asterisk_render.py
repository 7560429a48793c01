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


def test_a_production_dialplan_has_no_test_contexts() -> None:
    test = render.render(load_settings(environment="test")).files["extensions.conf"]
    production_settings = load_settings().model_copy(update={"environment": "production"})
    production = render.render(production_settings).files["extensions.conf"]
    for context in ("[sim-caller]", "[sim-agent]", "[bench-dialplan]", "[bench-agi]"):
        assert context in test and context not in production
    # The rest of the dialplan is the same: the test contexts are only added at the end.
    assert test.startswith(production.rsplit("\n", 2)[0])


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_dialplan_passes_asterisklint(tmp_path: Path, environment: str) -> None:
    settings = load_settings().model_copy(update={"environment": environment})
    render.write(render.render(settings), tmp_path)
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


def test_websocket_and_media_settings_reach_http_and_rtp_conf() -> None:
    settings = load_settings(asterisk_http_port=8123, rtp_port_start=30000, rtp_port_end=30199)
    files = render.render(settings).files
    assert "bindport = 8123" in files["http.conf"]
    assert "tlsenable" not in files["http.conf"].replace("; no TLS", "")
    assert "rtpstart = 30000" in files["rtp.conf"] and "rtpend = 30199" in files["rtp.conf"]
    assert "[transport-ws]" in files["pjsip.conf"]


def test_a_certificate_turns_on_wss() -> None:
    settings = load_settings(
        asterisk_http_bind="10.0.0.5",
        asterisk_https_port=8443,
        asterisk_tls_cert="/etc/asterisk/keys/desk.pem",
        asterisk_tls_key="/etc/asterisk/keys/desk.key",
    )
    http = render.render(settings).files["http.conf"]
    assert "tlsenable = yes" in http
    assert "tlsbindaddr = 10.0.0.5:8443" in http
    assert "tlscertfile = /etc/asterisk/keys/desk.pem" in http
    assert "tlsprivatekey = /etc/asterisk/keys/desk.key" in http


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"rtp_port_start": 30000, "rtp_port_end": 30001}, "CC_RTP_PORT_END"),
        ({"asterisk_tls_cert": "/k/desk.pem"}, "CC_ASTERISK_TLS_KEY"),
        ({"asterisk_tls_key": "/k/desk.key"}, "CC_ASTERISK_TLS_CERT"),
        ({"asterisk_http_port": 0}, "CC_ASTERISK_HTTP_PORT"),
    ],
)
def test_bad_media_settings_name_the_variable(overrides: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    assert variable in str(err.value)


def test_production_refuses_plain_websocket_beyond_loopback() -> None:
    secrets = {
        "environment": "production",
        "ami_controller_secret": "a-real-controller-secret",
        "ami_desk_secret": "a-real-desk-secret",
        "secret_key": "a-real-secret-key",
        "data_key": "cmVhbC1kYXRhLWtleS1mb3ItcHJvZHVjdGlvbi11c2U=",
        "lookup_key": "cmVhbC1sb29rdXAta2V5LWZvci1wcm9kdWN0aW9uLXU=",
    }
    with pytest.raises(ConfigError) as err:
        load_settings(asterisk_http_bind="10.0.0.5", **secrets)
    assert "CC_ASTERISK_TLS_CERT" in str(err.value)
    # Behind a TLS proxy on the same host, or with a certificate, it starts.
    load_settings(asterisk_http_bind="127.0.0.1", **secrets)
    load_settings(
        asterisk_http_bind="10.0.0.5",
        asterisk_tls_cert="/k/desk.pem",
        asterisk_tls_key="/k/desk.key",
        **secrets,
    )


def test_agent_phone_networks_become_the_named_acl_after_deny_all() -> None:
    settings = load_settings(phone_permit="10.1.0.0/16, 127.0.0.1/32")
    acl = render.render(settings).files["acl.conf"]
    section = acl[acl.index("[agent-phones]") :]
    lines = [line for line in section.splitlines() if line.startswith(("deny", "permit"))]
    assert lines == [
        "deny = 0.0.0.0/0.0.0.0",
        "deny = ::/0",
        "permit = 10.1.0.0/16",
        "permit = 127.0.0.1/32",
    ]


def test_bad_phone_network_names_the_setting() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(phone_permit="10.1.0.0/16,office")
    assert "CC_PHONE_PERMIT" in str(err.value) and "'office'" in str(err.value)


def test_asterisk_reads_the_agent_phones_from_the_application_database() -> None:
    settings = load_settings(database_url="postgresql://cc:pa;ss@db.example:6432/callcenter")
    conf = render.render(settings).files["res_pgsql.conf"]
    assert "hostname = db.example" in conf and "port = 6432" in conf
    assert "dbname = callcenter" in conf and "user = cc" in conf
    assert "password = pa\\;ss" in conf  # a bare ';' would start a comment
    own = load_settings(
        database_url="postgresql://cc@localhost/callcenter",
        asterisk_database_url="postgresql://asterisk@localhost/callcenter",
    )
    conf = render.render(own).files["res_pgsql.conf"]
    # The built-in Asterisk cannot reach a Unix socket from its chroot.
    assert "user = asterisk" in conf and "hostname = 127.0.0.1" in conf
