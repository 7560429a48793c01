"""The generated parts of extensions.conf: the lines' DIDs, from the line registry, and the
test contexts (simulated phones, benchmarks) that only a non-production Asterisk gets."""

from __future__ import annotations

from pathlib import Path

from backend.lines import LINES
from backend.settings import Settings

TEST_CONTEXTS_FILE = Path(__file__).resolve().parents[2] / "asterisk_conf/test/extensions.conf"


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


def test_contexts(settings: Settings) -> str:
    """The contexts of ``asterisk_conf/test/extensions.conf`` (placeholders are not filled in
    there), or a comment saying why there are none."""
    if not settings.asterisk_test_contexts:
        return "; none: CC_ENVIRONMENT=production, or not the built-in Asterisk"
    return TEST_CONTEXTS_FILE.read_text(encoding="utf-8").rstrip("\n")
