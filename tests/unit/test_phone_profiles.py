"""What Asterisk's realtime rows say about an agent's phone, for each kind (pure)."""

from __future__ import annotations

import pytest

from backend.errors import Refused
from backend.telephony import profiles


@pytest.mark.parametrize("number", ["1050", "2001", "100000", "999999"])
def test_agent_numbers_of_four_to_six_digits_are_accepted(number: str) -> None:
    assert profiles.check_agent_number(number) == number


@pytest.mark.parametrize("number", ["", "114", "0105", "1234567", "10a5", "1050 ", "carrier"])
def test_other_agent_numbers_are_refused_with_a_clear_code(number: str) -> None:
    with pytest.raises(Refused) as refused:
        profiles.check_agent_number(number)
    assert refused.value.code == "bad-agent-number"
    assert "工号" in refused.value.message


def test_unknown_phone_kind_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        profiles.check_phone_kind("fax")
    assert refused.value.code == "bad-phone-kind"


def test_browser_phone_is_webrtc_over_the_websocket_transport() -> None:
    row = profiles.endpoint_row("1050", "browser")
    assert row["transport"] == profiles.WS_TRANSPORT
    assert row["webrtc"] == "yes" and row["media_encryption"] == "dtls"
    assert row["dtls_auto_generate_cert"] == "yes" and row["ice_support"] == "yes"
    assert str(row["allow"]).split(",")[0] == "opus"


def test_desk_phone_is_udp_or_tls_with_g711_optimistic_srtp_and_nat_help() -> None:
    row = profiles.endpoint_row("1050", "desk")
    assert row["transport"] is None  # reached the way it registered: UDP or TLS
    assert row["allow"] == "alaw,ulaw"
    assert "webrtc" not in row
    assert row["media_encryption"] == "sdes" and row["media_encryption_optimistic"] == "yes"
    assert row["rtp_symmetric"] == row["force_rport"] == row["rewrite_contact"] == "yes"


@pytest.mark.parametrize("kind", profiles.PHONE_KINDS)
def test_every_phone_is_an_agent_behind_the_phone_acl_recorded_by_asterisk(kind: str) -> None:
    row = profiles.endpoint_row("1050", kind)  # type: ignore[arg-type]
    assert row["context"] == profiles.AGENT_CONTEXT == "agents"
    assert row["acl"] == profiles.AGENT_ACL
    assert row["aors"] == row["auth"] == "1050"
    assert row["direct_media"] == "no"  # media through Asterisk: recording, hold music


def test_one_registration_per_phone_and_a_new_one_replaces_it() -> None:
    row = profiles.aor_row()
    assert row["max_contacts"] == 1 and row["remove_existing"] == "yes"


def test_asterisk_gets_the_rfc2617_ha1_digest_never_the_secret() -> None:
    # RFC 2617 section 3.5's example: user Mufasa, realm testrealm@host.com.
    assert (
        profiles.md5_digest("Mufasa", "testrealm@host.com", "Circle Of Life")
        == "939e7578ed9e3c518a452acee763bce9"
    )
    row = profiles.auth_row("1050", "callcenter", "s3cret-value")
    assert row["password_digest"] == "md5:" + profiles.md5_digest(
        "1050", "callcenter", "s3cret-value"
    )
    assert "s3cret-value" not in str(row) and "password" not in row


def test_secrets_are_long_random_and_sip_safe() -> None:
    secrets = {profiles.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret) >= 24
        assert all(c.isalnum() or c in "-_" for c in secret)
