"""The shipped fail2ban filter (docker/fail2ban) against the security log the real Asterisk
writes: real failed REGISTERs (wrong secret, unknown 工号, a phone outside CC_PHONE_PERMIT)
and failed AMI logins (wrong secret, unknown user, outside the user's permit), each from an
address of its own, plus a phone's normal registration. Debian's fail2ban-regex finds every
failure and only failures, with the address each came from; a user name forged to carry
another address gets nobody else banned; fail2ban accepts the shipped jail."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from backend.ami.protocol import AmiParser, encode_action
from backend.ami.users import AmiUser, login
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.acceptance.test_agent_phones import security_log, sip
from tests.sip.register import register
from tests.sip_fixtures import DeskPhones

pytestmark = pytest.mark.asterisk

FAIL2BAN = Path(__file__).resolve().parents[2] / "docker" / "fail2ban"
FILTER = FAIL2BAN / "filter.d" / "callcenter-asterisk.conf"
JAIL = FAIL2BAN / "jail.d" / "callcenter-asterisk.conf"
FAILURES = ("FailedACL", "InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword")
# Each kind of failure comes from an address of its own (all loopback; the phones' own
# address 127.0.0.1 is the only one CC_PHONE_PERMIT and the AMI user's permit allow).
WRONG_SECRET = "127.0.0.1"
OUTSIDE_PERMIT = "127.0.0.21"
UNKNOWN_NUMBER = "127.0.0.22"
AMI_OUTSIDE_PERMIT = "127.0.0.23"
AMI_UNKNOWN_USER = "127.0.0.24"
REMOTE = re.compile(r'SecurityEvent="(\w+)".*,RemoteAddress="IPV4/\w+/([0-9.]+)/\d+"')


def fail2ban_regex(log: Path) -> list[str]:
    """The address of every failure the shipped filter finds in ``log``, in log order."""
    if shutil.which("fail2ban-regex") is None:
        raise AssertionError("fail2ban is not installed: run 'make setup' (Debian package)")
    result = subprocess.run(
        ["fail2ban-regex", "--raw", "-o", "ip", str(log), str(FILTER)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split()


def ami_login(settings: Settings, source: str, username: str, secret: str) -> str:
    """Log in to AMI from ``source``; the response's Message."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.bind((source, 0))
        sock.connect((settings.ami_host, settings.ami_port))
        sock.sendall(encode_action("Login", Username=username, Secret=secret))
        parser = AmiParser()
        while data := sock.recv(65536):
            for message in parser.feed(data):
                if "Response" in message:
                    return message.get("Message", "")
    raise AssertionError("AMI closed without answering the login")


def security_log_since(
    asterisk: AsteriskInstance, offset: int, copy: Path, last: tuple[str, str]
) -> list[str]:
    """The lines Asterisk wrote to its security log after ``offset``, also saved to ``copy``
    (the file fail2ban-regex reads: this test's lines, not the whole session's), once
    ``last``, the (event, address) of the test's last action, is written: every earlier
    line is there too."""

    def written(lines: list[str]) -> bool:
        return last in {m.groups() for line in lines if (m := REMOTE.search(line))}

    lines = security_log(asterisk, written, offset)
    copy.write_text("".join(line + "\n" for line in lines))
    return lines


async def test_fail2ban_finds_every_sip_and_ami_failure_and_only_failures(
    asterisk: AsteriskInstance, settings: Settings, desk_phones: DeskPhones, tmp_path: Path
) -> None:
    security_log = asterisk.dir / "log" / "security.log"
    start = security_log.stat().st_size if security_log.exists() else 0

    agent = await desk_phones.new_agent()  # registers normally: ChallengeSent, SuccessfulAuth
    number = agent.number
    assert register(sip(settings), number, "guessed-wrong", count=3).statuses == [401] * 3
    assert register(sip(settings), number, "guess", local_ip=OUTSIDE_PERMIT).status == 401
    assert register(sip(settings), "99999", "anything", local_ip=UNKNOWN_NUMBER).status == 401
    account = login(settings, AmiUser.CONTROLLER)
    user, right = account.username, account.secret
    for source, name, password in (
        (WRONG_SECRET, user, "not-the-secret"),
        (AMI_OUTSIDE_PERMIT, user, right),
        (AMI_UNKNOWN_USER, "nobody", "x"),
    ):
        assert ami_login(settings, source, name, password) == "Authentication failed"
    assert ami_login(settings, WRONG_SECRET, user, right) == "Authentication accepted"

    lines = security_log_since(
        asterisk, start, tmp_path / "security.log", ("SuccessfulAuth", WRONG_SECRET)
    )
    events = [m.groups() for line in lines if (m := REMOTE.search(line))]
    failures = [address for event, address in events if event in FAILURES]
    # The real Asterisk wrote each kind of failure, and successes besides.
    kinds = {(event, address) for event, address in events if event in FAILURES}
    assert {
        ("ChallengeResponseFailed", WRONG_SECRET),
        ("FailedACL", OUTSIDE_PERMIT),
        ("InvalidAccountID", UNKNOWN_NUMBER),
        ("InvalidPassword", WRONG_SECRET),
        ("FailedACL", AMI_OUTSIDE_PERMIT),
        ("InvalidAccountID", AMI_UNKNOWN_USER),
    } <= kinds, lines
    assert any(event == "SuccessfulAuth" for event, _ in events), lines

    found = fail2ban_regex(tmp_path / "security.log")
    assert found == failures  # every failure, with its address, in order; no success
    assert set(found) == {
        WRONG_SECRET, OUTSIDE_PERMIT, UNKNOWN_NUMBER, AMI_OUTSIDE_PERMIT, AMI_UNKNOWN_USER
    }  # fmt: skip
    assert found.count(WRONG_SECRET) == 3 + 1  # three wrong phone secrets, one AMI secret

    # Fields smuggled into what the attacker controls — the user name (SIP and AMI), the
    # digest answer — in lines as Asterisk writes them: nobody else's address comes out.
    smuggled = '",RemoteAddress="IPV4/UDP/10.9.9.9/5060'
    forged = [
        forge(lines, "InvalidAccountID", "PJSIP", "AccountID", "x" + smuggled),
        forge(lines, "InvalidAccountID", "AMI", "AccountID", "x" + smuggled),
        forge(lines, "ChallengeResponseFailed", "PJSIP", "Response", "0" + smuggled),
        forge(lines, "ChallengeResponseFailed", "PJSIP", "AccountID",
              'x",SessionID="1",LocalAddress="IPV4/UDP/127.0.0.1/5060' + smuggled),
    ]  # fmt: skip
    (tmp_path / "forged.log").write_text("\n".join(forged) + "\n")
    assert "10.9.9.9" not in fail2ban_regex(tmp_path / "forged.log")


def forge(lines: list[str], event: str, service: str, field: str, value: str) -> str:
    """A real line of ``event`` from ``service`` with ``field`` set to ``value``."""
    line = next(
        line
        for line in lines
        if f'SecurityEvent="{event}"' in line and f'Service="{service}"' in line
    )
    forged = re.sub(f'{field}="[^"]*"', lambda _: f'{field}="{value}"', line, count=1)
    assert forged != line
    return forged


def test_fail2ban_accepts_the_shipped_jail(tmp_path: Path) -> None:
    """fail2ban's own configuration test, with the shipped jail and filter added to Debian's
    configuration and the log path pointed at a file that exists."""
    config = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", config)
    shutil.copy(FILTER, config / "filter.d")
    log = tmp_path / "security.log"
    log.write_text("")
    jail = JAIL.read_text()
    assert "filter   = callcenter-asterisk" in jail
    (config / "jail.d" / JAIL.name).write_text(
        re.sub(r"(?m)^logpath\s*=.*$", f"logpath  = {log}", jail)
    )
    # Only our jail: Debian's sshd jail wants a journal or auth.log this machine may lack.
    (config / "jail.d" / "defaults-debian.conf").write_text("[sshd]\nenabled = false\n")
    result = subprocess.run(
        ["fail2ban-client", "-c", str(config), "--test"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "OK: configuration test is successful" in output
