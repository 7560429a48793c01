"""The carrier trunk and the lines' numbers come from settings; bad values name the variable."""

from __future__ import annotations

import re

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from ivr.pbx import render


def pjsip_sections(**overrides: object) -> list[tuple[str, dict[str, str]]]:
    """pjsip.conf as rendered, each section with its options (names repeat in PJSIP)."""
    text = render.render(load_settings(**overrides)).files["pjsip.conf"]
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        # A bare ';' starts a comment in Asterisk config files; '\\;' is a semicolon.
        line = re.split(r"(?<!\\);", line, maxsplit=1)[0].replace("\\;", ";").strip()
        if line.startswith("["):
            sections.append((line[1 : line.index("]")], {}))
        elif "=" in line and sections:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[-1][1][key] = value
    return sections


def carrier_parts(**overrides: object) -> dict[str, dict[str, str]]:
    return {
        options["type"]: options
        for name, options in pjsip_sections(**overrides)
        if name.startswith("carrier") and "type" in options
    }


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("carrier_host", "not a host!", "CC_CARRIER_HOST"),
        ("carrier_match", "203.0.113.7,300.1.2.3/24", "CC_CARRIER_MATCH"),
        ("carrier_match", "203.0.113.7:99999", "CC_CARRIER_MATCH"),
        ("carrier_codecs", "alaw,g729", "CC_CARRIER_CODECS"),
        ("carrier_codecs", " , ", "CC_CARRIER_CODECS"),
        ("carrier_transport", "sctp", "CC_CARRIER_TRANSPORT"),
        ("carrier_port", 0, "CC_CARRIER_PORT"),
        ("carrier_username", "bad user", "CC_CARRIER_USERNAME"),
        ("did_114", "11a4", "CC_DID_114"),
        ("did_hotline", "12", "CC_DID_HOTLINE"),
        ("caller_id_114", "010-114", "CC_CALLER_ID_114"),
        ("caller_id_hotline", "", "CC_CALLER_ID_HOTLINE"),
    ],
)
def test_a_bad_trunk_or_line_value_names_its_variable(
    field: str, value: object, variable: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**{field: value})
    assert str(err.value).startswith(f"setting {variable}:")


def test_settings_wrong_only_together_name_the_one_to_fix() -> None:
    with pytest.raises(ConfigError, match=r"^setting CC_DID_HOTLINE:"):
        load_settings(did_114="114", did_hotline="114")
    with pytest.raises(ConfigError, match=r"^setting CC_CARRIER_USERNAME:"):
        load_settings(carrier_register=True)
    with pytest.raises(ConfigError, match=r"^setting CC_CARRIER_PASSWORD:"):
        load_settings(carrier_username="cc114")


def test_the_lines_dids_reach_the_dialplan() -> None:
    files = render.render(load_settings(did_114="01065114", did_hotline="01012393")).files
    text = files["extensions.conf"]
    assert "exten => 01065114,1,Goto(incoming,${EXTEN},1)" in text
    assert "exten => 01012393,1,Set(__CC_LINE=hotline)" in text
    assert "exten => 114," not in text and "exten => 12393," not in text


def test_by_default_the_carrier_is_matched_by_address_and_port() -> None:
    parts = carrier_parts()
    # A port-exact match: phones on 127.0.0.1 are never taken for the carrier.
    assert parts["identify"]["match"] == "127.0.0.1:5080"
    assert parts["aor"]["contact"] == "sip:127.0.0.1:5080;transport=udp"
    assert parts["endpoint"]["identify_by"] == "ip"
    assert "auth" not in parts["endpoint"] and "outbound_auth" not in parts["endpoint"]
    assert "registration" not in parts


def test_a_carrier_with_credentials_gets_digest_auth_and_registration() -> None:
    parts = carrier_parts(
        carrier_host="sbc.carrier.example",
        carrier_port=5060,
        carrier_transport="tcp",
        carrier_match="203.0.113.0/28, 198.51.100.7:5060",
        carrier_codecs="ALAW,ulaw,alaw",
        carrier_username="cc114",
        carrier_password="s3cret",
        carrier_register=True,
        carrier_inbound_auth=True,
    )
    endpoint = parts["endpoint"]
    assert (endpoint["outbound_auth"], endpoint["auth"]) == ("carrier-auth", "carrier-auth")
    assert endpoint["allow"] == "alaw,ulaw" and endpoint["transport"] == "transport-tcp"
    assert parts["identify"]["match"] == "203.0.113.0/28,198.51.100.7:5060"
    assert parts["auth"]["username"] == "cc114" and parts["auth"]["password"] == "s3cret"
    registration = parts["registration"]
    assert registration["server_uri"] == "sip:sbc.carrier.example:5060"
    assert registration["client_uri"] == "sip:cc114@sbc.carrier.example:5060"
    assert registration["transport"] == "transport-tcp"


def test_an_ipv6_carrier_is_bracketed_in_uris() -> None:
    parts = carrier_parts(carrier_host="2001:db8::5", carrier_match="[2001:db8::5]:5060")
    assert parts["aor"]["contact"] == "sip:[2001:db8::5]:5080;transport=udp"
    assert parts["identify"]["match"] == "[2001:db8::5]:5060"


def test_outbound_auth_alone_does_not_challenge_the_carrier() -> None:
    endpoint = carrier_parts(carrier_username="cc114", carrier_password="pw")["endpoint"]
    assert endpoint["outbound_auth"] == "carrier-auth" and "auth" not in endpoint
