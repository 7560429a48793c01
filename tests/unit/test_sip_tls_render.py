"""The TLS transport for desk phones: rendered into pjsip.conf only with a certificate and
key (CC_SIP_TLS_CERT/CC_SIP_TLS_KEY), on CC_SIP_BIND:CC_SIP_TLS_PORT, TLS 1.2 at least."""

from __future__ import annotations

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from ivr.pbx import render


def transport_tls(pjsip: str) -> list[str]:
    section = pjsip[pjsip.index("[transport-tls]") :].split("\n\n", 1)[0]
    return section.splitlines()


def test_without_a_certificate_there_is_no_tls_transport() -> None:
    pjsip = render.render(load_settings()).files["pjsip.conf"]
    assert "[transport-tls]" not in pjsip
    assert "no TLS transport: CC_SIP_TLS_CERT is not set" in pjsip


def test_a_certificate_and_key_make_the_tls_transport() -> None:
    settings = load_settings(
        sip_bind="10.0.0.5",
        sip_tls_port=5161,
        sip_tls_cert="/etc/asterisk/keys/sip.crt",
        sip_tls_key="/etc/asterisk/keys/sip.key",
    )
    assert transport_tls(render.render(settings).files["pjsip.conf"]) == [
        "[transport-tls]",
        "type = transport",
        "protocol = tls",
        "bind = 10.0.0.5:5161",
        "cert_file = /etc/asterisk/keys/sip.crt",
        "priv_key_file = /etc/asterisk/keys/sip.key",
        "method = tlsv1_2",
    ]


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"sip_tls_cert": "/k/sip.crt"}, "CC_SIP_TLS_KEY"),
        ({"sip_tls_key": "/k/sip.key"}, "CC_SIP_TLS_CERT"),
        (
            {"sip_tls_cert": "/k/sip.crt", "sip_tls_key": "/k/sip.key", "sip_tls_port": 5060},
            "CC_SIP_TLS_PORT",
        ),
    ],
)
def test_incomplete_tls_settings_name_the_variable(
    overrides: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    assert str(err.value).startswith(f"setting {variable}:")
