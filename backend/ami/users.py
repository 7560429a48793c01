"""The AMI users and the least each may do.

The controller rings agents for callbacks (Originate into a dialplan context), follows
answers, holds and transfers (call events) and lists the channels to reconcile its view with
Asterisk's (CoreShowChannels, the "reporting" class: read-only); the desk controls its agents' calls (hangup,
blind transfer, hold through MUTEAUDIO, listening and outbound calls by Originate into a
dialplan context, the channel list by CoreShowChannels). Neither may run CLI commands, read
or write configuration, or reach the shell (``system``). The tools user, with every right,
exists only on the built-in Asterisk outside production: the tests, the benchmarks and
``callcenter demo-calls`` drive simulated phones with it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from backend.settings import Settings


@dataclass(frozen=True)
class Rights:
    read: str  # event classes it receives
    write: str  # action classes it may send
    events: tuple[str, ...]  # manager.conf eventfilter: only these events; () for all


class AmiUser(Enum):
    CONTROLLER = Rights(
        read="call",
        write="originate,reporting",
        events=("DialEnd", "Hold", "Unhold", "AttendedTransfer", "OriginateResponse"),
    )
    DESK = Rights(read="call", write="call,reporting,originate", events=("OriginateResponse",))
    TOOLS = Rights(
        read="system,call,log,verbose,agent,user,config,dtmf,reporting,cdr,dialplan,originate",
        write="system,call,agent,user,config,command,reporting,originate",
        events=(),
    )

    @property
    def rights(self) -> Rights:
        return self.value


TOOLS_USERNAME = "cc-tools"


@dataclass(frozen=True)
class Login:
    username: str
    secret: str
    permit: str  # comma-separated CIDRs


def login(settings: Settings, user: AmiUser) -> Login:
    if user is AmiUser.CONTROLLER:
        return Login(
            settings.ami_controller_username,
            settings.ami_controller_secret.get_secret_value(),
            settings.ami_controller_permit,
        )
    if user is AmiUser.DESK:
        return Login(
            settings.ami_desk_username,
            settings.ami_desk_secret.get_secret_value(),
            settings.ami_desk_permit,
        )
    # Derived from the session key, so it needs no setting of its own and differs from both.
    secret = hmac.new(
        settings.secret_key.get_secret_value().encode(), b"ami-tools", hashlib.sha256
    ).hexdigest()[:32]
    return Login(TOOLS_USERNAME, secret, "127.0.0.1/32")


def users_of(settings: Settings) -> tuple[AmiUser, ...]:
    """The users manager.conf gets: the tools user only where the test contexts are."""
    if settings.asterisk_test_contexts:
        return (AmiUser.CONTROLLER, AmiUser.DESK, AmiUser.TOOLS)
    return (AmiUser.CONTROLLER, AmiUser.DESK)
