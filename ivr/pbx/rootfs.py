"""The built-in Asterisk: Debian sid's ``asterisk`` package in a root built by mmdebstrap.

Debian 12 has no asterisk package; sid has 22.x. The root is built once, outside the
repository, and reused until it is removed.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from backend.errors import ConfigError

PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-wav",
)
# The sid Release file on the mirror may be past its Valid-Until date.
APT_OPTIONS = ('Acquire::Check-Valid-Until "false"',)
ASTERISK_BINARY = "usr/sbin/asterisk"
# Asterisk as root in the chroot must be able to read/write these; mmdebstrap leaves some of
# them owned by the asterisk user, whose uid means nothing outside.
ROOT_OWNED_DIRS = (
    "etc/asterisk",
    "var/lib/asterisk",
    "var/spool/asterisk",
    "var/log/asterisk",
    "run",
)


def is_built(root: Path) -> bool:
    return (root / ASTERISK_BINARY).exists()


def build(root: Path, *, log: Path | None = None) -> bool:
    """Build the root if missing. Returns True when it built, False when it was there.

    Several checkouts on one machine share the root: a lock beside it makes a second
    `make setup` wait for the first build and reuse it instead of clobbering its partial tree.
    """
    if is_built(root):
        return False
    if shutil.which("mmdebstrap") is None:
        raise ConfigError(
            "asterisk_root", "mmdebstrap is not installed (apt-get install mmdebstrap)"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.with_name(root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_built(root):
            return False
        _build_locked(root, log or root.with_name(root.name + ".build.log"))
    return True


def _build_locked(root: Path, log: Path) -> None:
    partial = root.with_name(root.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    command = [
        "mmdebstrap",
        "--variant=apt",
        *(f"--aptopt={opt}" for opt in APT_OPTIONS),
        "--include=" + ",".join(PACKAGES),
        "sid",
        str(partial),
    ]
    with open(log, "w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0 or not is_built(partial):
        raise ConfigError(
            "asterisk_root", f"building the Asterisk root with mmdebstrap failed (see {log})"
        )
    for relative in ROOT_OWNED_DIRS:
        subprocess.run(["chown", "-R", "root:root", str(partial / relative)], check=False)
    partial.rename(root)


def asterisk_version(root: Path) -> str:
    result = subprocess.run(
        ["chroot", str(root), "asterisk", "-V"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()
