"""The generated parts of extensions.conf: the lines' DIDs, from the line registry, and the
test contexts (simulated phones, benchmarks) that only the built-in Asterisk gets.

What gets which test contexts (``asterisk_conf/test/``), and why:

- A production Asterisk (``CC_ENVIRONMENT=production``, or an external one, which is what a
  deployment renders with ``callcenter asterisk render``): none.
- The built-in Asterisk of development and the demo: the simulated phones. The demo needs them:
  its calls are simulated callers ([sim-caller]), and its agents other than 1001 and the
  citizens its callbacks ring are simulated phones ([sim-agent]).
- The built-in Asterisk with ``CC_ENVIRONMENT=test`` (the tests' and the benchmarks'): the
  simulated phones and the benchmark's contexts, which only bench/agi_overhead and the tests
  dial.
"""

from __future__ import annotations

from pathlib import Path

from backend.lines import LINES
from backend.settings import Settings

TEST_CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf/test"
SIMULATED_PHONES_FILE = TEST_CONF_DIR / "simulated_phones.conf"
BENCH_FILE = TEST_CONF_DIR / "bench.conf"


def line_dids(settings: Settings) -> str:
    """[from-carrier]: each line's DID goes on to [incoming]."""
    return "\n".join(
        f"exten => {settings.did[spec.code]},1,Goto(incoming,${{EXTEN}},1)" for spec in LINES
    )


def line_routes(settings: Settings) -> str:
    """[incoming]: each line's DID sets the line's code, which names the controller's flow."""
    return "\n\n".join(
        f"exten => {settings.did[spec.code]},1,Set(__CC_LINE={spec.code})\n"
        " same => n,Set(__CC_DID=${EXTEN})\n"
        " same => n,Goto(call,1)"
        for spec in LINES
    )


def controllers(settings: Settings) -> str:
    """[controllers]: CC_SCRIPT handed to each controller in turn, the fallback after the last
    (asterisk_conf/extensions.conf says why each line is there)."""
    lines = ["exten => s,1,Set(DIALSTATUS=)"]
    for url in (settings.agi_url, *settings.agi_backups):
        lines += [
            " same => n,Set(CC_AGI_DONE=)",
            f" same => n,AGI({url}/${{CC_SCRIPT}})",
            ' same => n,GotoIf($["${CC_AGI_DONE}" = "1" | "${DIALSTATUS}" = "ANSWER"]?finished,1)',
            ' same => n,ExecIf($["${AGISTATUS}" = "SUCCESS"]?Set(CC_CONTROLLER_LOST=1))',
        ]
    lines += [" same => n,Goto(incoming,fallback,1)", "exten => finished,1,Hangup()"]
    return "\n".join(lines)


def test_contexts(settings: Settings) -> str:
    """The test contexts this Asterisk gets (placeholders are not filled in there), or a
    comment saying why there are none."""
    if not settings.asterisk_test_contexts:
        return "; none: CC_ENVIRONMENT=production, or not the built-in Asterisk"
    files = [SIMULATED_PHONES_FILE]
    if settings.environment == "test":
        files.append(BENCH_FILE)
    return "\n\n".join(path.read_text(encoding="utf-8").rstrip("\n") for path in files)
