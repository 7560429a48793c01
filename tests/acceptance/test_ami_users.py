"""The controller and the desk each log in to the real Asterisk's AMI as a user of its own
with the least rights it needs (backend/ami/users.py): what neither needs is refused, a login
from outside a user's permit is refused, and each receives only the events it uses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from backend.ami.client import AmiClient, AmiError
from backend.ami.users import AmiUser, login
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.acceptance.test_fail2ban import ami_login

pytestmark = pytest.mark.asterisk

OUTSIDE_PERMIT = "127.0.0.31"  # loopback, but not the 127.0.0.1/32 each user is permitted


def login_from(settings: Settings, source: str, user: AmiUser) -> str:
    """Log in as ``user`` with its right secret from ``source``; the response's Message."""
    account = login(settings, user)
    return ami_login(settings, source, account.username, account.secret)


@contextlib.asynccontextmanager
async def logged_in(settings: Settings, user: AmiUser) -> AsyncIterator[AmiClient]:
    ami = AmiClient(settings, user)
    await ami.connect()
    try:
        yield ami
    finally:
        ami.close()


async def refusal(ami: AmiClient, action: str, **fields: str) -> str:
    """The error message Asterisk answers ``action`` with (AssertionError if it is done)."""
    try:
        await ami.action(action, **fields)
    except AmiError as exc:
        return str(exc)
    raise AssertionError(f"{action} was allowed")


@pytest.mark.parametrize("user", [AmiUser.CONTROLLER, AmiUser.DESK])
async def test_neither_user_may_run_commands_read_config_or_reach_the_shell(
    asterisk: AsteriskInstance, settings: Settings, user: AmiUser
) -> None:
    async with logged_in(settings, user) as ami:
        assert "Permission denied" in await refusal(ami, "Command", Command="core show version")
        assert "Permission denied" in await refusal(ami, "GetConfig", Filename="manager.conf")
        assert "Permission denied" in await refusal(ami, "UpdateConfig", SrcFilename="x.conf")
        assert "Permission denied" in await refusal(ami, "DBPut", Family="f", Key="k", Val="v")
        # An Originate into an application that reaches the shell needs "system".
        for app, data in (("System", "touch /tmp/cc-ami-owned"), ("Exec", "System(id)")):
            message = await refusal(
                ami, "Originate", Channel="Local/s@sim-caller", Application=app, Data=data
            )
            assert "Originate Access Forbidden" in message


async def test_the_controller_may_not_control_calls_as_the_desk_does(
    asterisk: AsteriskInstance, settings: Settings
) -> None:
    async with logged_in(settings, AmiUser.CONTROLLER) as ami:
        # It lists the channels (its resync after a reconnect; "reporting" is read-only,
        # Getvar included), and changes none of them.
        assert all(c["Event"] == "CoreShowChannel" for c in await ami.channels())
        for action, fields in (
            ("Hangup", {"Channel": "PJSIP/8001-00000001"}),
            ("Redirect", {"Channel": "PJSIP/8001-00000001", "Context": "x", "Exten": "s"}),
            ("Setvar", {"Channel": "PJSIP/8001-00000001", "Variable": "X", "Value": "1"}),
        ):
            assert "Permission denied" in await refusal(ami, action, **fields)


async def test_the_desk_lists_channels_without_the_cli(
    asterisk: AsteriskInstance, settings: Settings
) -> None:
    async with logged_in(settings, AmiUser.DESK) as ami:
        channels = await ami.channels()
        assert all(c["Event"] == "CoreShowChannel" and c["Channel"] for c in channels)
        reply = await ami.action("Getvar", Variable="PJSIP_DIAL_CONTACTS(nobody)")
        assert reply["Response"] == "Success"


@pytest.mark.parametrize("user", [AmiUser.CONTROLLER, AmiUser.DESK])
def test_a_login_from_outside_the_permit_is_refused(
    asterisk: AsteriskInstance, settings: Settings, user: AmiUser
) -> None:
    assert login_from(settings, OUTSIDE_PERMIT, user) == "Authentication failed"
    assert login_from(settings, "127.0.0.1", user) == "Authentication accepted"


async def test_each_user_receives_only_the_events_it_uses(
    asterisk: AsteriskInstance, settings: Settings
) -> None:
    clients = {user: AmiClient(settings, user) for user in AmiUser}
    seen: dict[AmiUser, list[str]] = {user: [] for user in AmiUser}
    done = asyncio.Event()

    def recorder(user: AmiUser) -> Callable[[dict[str, str]], None]:
        def record(event: dict[str, str]) -> None:
            seen[user].append(event.get("Event", ""))
            if user is AmiUser.TOOLS and event.get("UserEvent") == "BenchDone":
                done.set()

        return record

    for user, client in clients.items():
        client.subscribe("*", recorder(user))
        await client.connect()
    try:
        # A call through the bench's dialplan menu: channels, dialplan, a user event.
        await clients[AmiUser.TOOLS].originate(
            "Local/s@bench-dialplan", application="Wait", data="10"
        )
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.sleep(0.5)  # let the other connections read what was sent by then
    finally:
        for client in clients.values():
            client.close()
    # (The tools connection's own OriginateResponse answers its action, not its handlers.)
    assert {"Newchannel", "DialEnd", "UserEvent"} <= set(seen[AmiUser.TOOLS])
    assert set(seen[AmiUser.DESK]) <= {"OriginateResponse"}
    assert set(seen[AmiUser.CONTROLLER]) <= set(AmiUser.CONTROLLER.rights.events)
    assert "OriginateResponse" in seen[AmiUser.DESK] and "DialEnd" in seen[AmiUser.CONTROLLER]
