"""REGISTER as an agent's phone with SIPp (a real SIP UA), and tell how Asterisk answered.

The scenario sends REGISTER, answers a 401 challenge with digest credentials (SIPp's
``[authentication]`` from ``-au``/``-ap``) and logs the final status it got: 200 accepted,
401 refused credentials (Asterisk 22 answers a request its endpoint ACL refuses the same
way), 403 forbidden, 404 no such AOR for the endpoint Asterisk identified. SIPp exits
non-zero for every refusal too, so the logged statuses, not the exit code, are the answer.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.sip.sipp import free_udp_port

REQUEST = """
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]reg[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: {expires}
      User-Agent: callcenter-tests/sipp
      {authorization}Content-Length: 0
"""


def _final(label: str, status: int) -> str:
    return f"""
  <label id="{label}"/>
  <nop><action><log message="final-status {status}"/></action></nop>
  <nop next="end"/>"""


def scenario(expires: int) -> str:
    first = REQUEST.format(cseq=1, expires=expires, authorization="")
    second = REQUEST.format(cseq=2, expires=expires, authorization="[authentication]\n      ")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent phone REGISTER">
  <send retrans="500"><![CDATA[{first}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="403" optional="true" next="forbidden"/>
  <recv response="404" optional="true" next="unknown"/>
  <recv response="200" optional="true" next="accepted"/>
  <recv response="401" auth="true">
    <action>
      <ereg regexp="realm=.([A-Za-z0-9_.@-]*)" search_in="hdr" header="WWW-Authenticate:"
            assign_to="challenge,realm"/>
      <log message="challenge-realm [$realm] from [$challenge]"/>
    </action>
  </recv>
  <send retrans="500"><![CDATA[{second}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="401" optional="true" next="refused"/>
  <recv response="403" optional="true" next="forbidden"/>
  <recv response="404" optional="true" next="unknown"/>
  <recv response="200" next="accepted"/>
{_final("accepted", 200)}
{_final("refused", 401)}
{_final("forbidden", 403)}
{_final("unknown", 404)}
  <label id="end"/>
  <nop><action><log message="done"/></action></nop>
</scenario>
"""


@dataclass(frozen=True)
class RegisterOutcome:
    statuses: list[int]  # the final SIP status of each REGISTER, in the order they ended
    realms: list[str]  # the realm of each digest challenge Asterisk sent
    sipp_output: str

    @property
    def status(self) -> int:
        """The final status of the (last) REGISTER; 0 when Asterisk answered none."""
        return self.statuses[-1] if self.statuses else 0


FINAL = re.compile(r"final-status (\d{3})")
REALM = re.compile(r"challenge-realm (\S*)")


def register(
    asterisk: tuple[str, int],
    username: str,
    password: str,
    *,
    local_ip: str = "127.0.0.1",
    expires: int = 60,
    count: int = 1,
    rate: int = 10,
    timeout: float = 15.0,
) -> RegisterOutcome:
    """``count`` REGISTER transactions (each with its challenge) from ``local_ip``, started
    ``rate`` a second: one to register a phone, hundreds to flood Asterisk."""
    host, port = asterisk
    with tempfile.TemporaryDirectory(prefix="sipp-register-") as work:
        workdir = Path(work)
        (workdir / "register.xml").write_text(scenario(expires), encoding="ascii")
        log = workdir / "register.log"
        result = subprocess.run(
            [
                "sipp", f"{host}:{port}",
                "-sf", "register.xml",
                "-s", username, "-au", username, "-ap", password,
                "-i", local_ip, "-p", str(free_udp_port(local_ip)), "-nostdin",
                "-m", str(count), "-r", str(rate), "-l", str(max(rate, 1)),
                "-timeout", f"{timeout:g}s", "-recv_timeout", "5000",
                "-trace_logs", "-log_file", str(log),
            ],
            cwd=workdir, capture_output=True, text=True, timeout=timeout + 10, check=False,
        )  # fmt: skip
        logged = log.read_text() if log.exists() else ""
        output = result.stdout[-2000:] + result.stderr[-2000:]
        return RegisterOutcome(
            [int(code) for code in FINAL.findall(logged)], REALM.findall(logged), output
        )
