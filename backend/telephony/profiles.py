"""What an agent's phone is, as Asterisk's realtime PJSIP rows (pure; no database here).

Two kinds, chosen by the agent at sign-in:

- ``browser``: the desk's WebRTC softphone (JsSIP over Asterisk's WebSocket transport):
  DTLS-SRTP with a certificate Asterisk generates, ICE, AVPF, rtcp-mux, opus first.
- ``desk``: any RFC 3261 phone over UDP (or TLS, where CC_SIP_TLS_CERT gives Asterisk a TLS
  transport), G.711 only; the NAT options make Asterisk answer where the phone's packets
  really come from. SRTP (SDES) is optimistic: a phone that offers keys gets SRTP, one that
  does not gets plain RTP.

Both: context ``agents``, one registration at a time (a new one replaces the old, so a phone
that re-registers after a network change is not refused), and the named ACL ``agent-phones``
(acl.conf, from CC_PHONE_PERMIT) so that a stolen secret is useless outside the call centre's
networks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal, get_args

from backend.errors import Refused

PhoneKind = Literal["browser", "desk"]
PHONE_KINDS: tuple[str, ...] = get_args(PhoneKind)

AGENT_CONTEXT = "agents"
AGENT_ACL = "agent-phones"
WS_TRANSPORT = "transport-ws"  # pjsip.conf's WebSocket transport (served by http.conf at /ws)

# 工号: 4 to 6 digits, no leading zero. It is also the SIP user name and the extension, so
# digits only (a desk phone's keypad can dial it) and never a DID such as 114.
AGENT_NUMBER = re.compile(r"[1-9][0-9]{3,5}")

Row = dict[str, str | int | None]


def check_agent_number(number: str) -> str:
    if not AGENT_NUMBER.fullmatch(number):
        raise Refused(
            f"工号 {number!r} 格式不对：应为4到6位数字，且不以0开头", code="bad-agent-number"
        )
    return number


def check_phone_kind(kind: str) -> PhoneKind:
    if kind not in PHONE_KINDS:
        raise Refused(f"话机类型 {kind!r} 不存在：应为 browser 或 desk", code="bad-phone-kind")
    return kind  # type: ignore[return-value]


def interface(number: str) -> str:
    """The channel the ACD dials to ring the agent's phone."""
    return f"PJSIP/{number}"


def new_secret() -> str:
    """A random SIP password: 144 bits, URL-safe characters every SIP UA accepts."""
    return secrets.token_urlsafe(18)


def md5_digest(username: str, realm: str, secret: str) -> str:
    """HA1 of RFC 2617 digest, the only form of the secret Asterisk is given."""
    return hashlib.md5(f"{username}:{realm}:{secret}".encode()).hexdigest()


def endpoint_row(number: str, kind: PhoneKind) -> Row:
    common: Row = {
        "aors": number,
        "auth": number,
        "context": AGENT_CONTEXT,
        "disallow": "all",
        # Asterisk stays in the media path: it records every call and plays hold music.
        "direct_media": "no",
        "dtmf_mode": "rfc4733",
        "acl": AGENT_ACL,
        # One call at a time: a second ring while talking is busy for the ACD.
        "device_state_busy_at": 1,
        "allow_subscribe": "no",
    }
    if kind == "browser":
        return common | {
            "transport": WS_TRANSPORT,
            "allow": "opus,alaw,ulaw",
            # webrtc=yes implies the rest; spelled out so the row says what the phone gets.
            "webrtc": "yes",
            "use_avpf": "yes",
            "media_encryption": "dtls",
            "dtls_auto_generate_cert": "yes",
            "dtls_verify": "fingerprint",
            "dtls_setup": "actpass",
            "ice_support": "yes",
            "media_use_received_transport": "yes",
            "rtcp_mux": "yes",
        }
    return common | {
        # No transport: Asterisk reaches the phone the way it registered (UDP or TLS); the
        # endpoint's transport would force UDP onto a phone that registered over TLS.
        "transport": None,
        "allow": "alaw,ulaw",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        # Also makes Asterisk call a TLS phone back over the connection it registered on.
        "rewrite_contact": "yes",
        # SDES keys travel in the SDP: confidential only over TLS, which is why the phones
        # that can are told to register over TLS (README "Agent phones").
        "media_encryption": "sdes",
        "media_encryption_optimistic": "yes",
    }


def auth_row(number: str, realm: str, secret: str) -> Row:
    # auth_type left NULL: Asterisk 22's default "digest", which reads password_digest
    # ("md5:<HA1>"); its older md5/userpass values are deprecated.
    return {
        "username": number,
        "realm": realm,
        "password_digest": "md5:" + md5_digest(number, realm, secret),
    }


def aor_row() -> Row:
    return {
        "max_contacts": 1,
        "remove_existing": "yes",
        "remove_unavailable": "yes",
        # Registrations refresh at most every 5 minutes; a phone gone silent is pruned by
        # qualify rather than rung for up to an hour.
        "maximum_expiration": 300,
        "default_expiration": 120,
        "qualify_frequency": 30,
    }
