"""manager.conf's user sections: one per AMI user (backend/ami/users.py), each with its own
secret, the networks it may log in from (every other address refused) and only the event
and action classes, and the events, its process uses."""

from __future__ import annotations

from backend.ami.users import AmiUser, login, users_of
from backend.settings import Settings

WHO = {
    AmiUser.CONTROLLER: "the controller: rings agents for callbacks, follows answers and transfers",
    AmiUser.DESK: "the desk: its agents' call control, listening and outbound calls",
    AmiUser.TOOLS: "tests, benchmarks and demo calls (built-in Asterisk outside production only)",
}


def user_section(settings: Settings, user: AmiUser) -> str:
    account, rights = login(settings, user), user.rights
    lines = [
        f"; {WHO[user]}",
        f"[{account.username}]",
        f"secret = {account.secret}",
        "deny = 0.0.0.0/0.0.0.0",
        "deny = ::/0",
        *(f"permit = {cidr}" for cidr in account.permit.split(",")),
        f"read = {rights.read}",
        f"write = {rights.write}",
        "writetimeout = 5000",
    ]
    if rights.events:
        # A regular expression over the event's text, which begins "Event: <name>\r\n".
        names = "|".join(rights.events)
        lines.append(f"eventfilter = ^Event: ({names})[[:space:]]")
    return "\n".join(lines)


def manager_users(settings: Settings) -> str:
    return "\n\n".join(user_section(settings, user) for user in users_of(settings))
