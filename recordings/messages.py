"""Messages citizens leave (out of hours, queue voicemail) sealed like call recordings.

A message is not in the recordings index: Asterisk's RECORD FILE writes it below
``<recordings>/messages/YYYY/MM/DD/`` (UTC date) and the work order keeps its path. The
controller seals it as soon as the message is left; should the controller die first, the
worker's sweep seals what is still plaintext in the last two days' folders once nobody has
written to it for a while.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recordings.paths import RecordingPathRefused, contained
from recordings.sealed import SEALING_SUFFIX, MasterKey, is_sealed, seal

log = logging.getLogger("recordings.messages")

MESSAGES_FOLDER = "messages"
# RECORD FILE is done with a file nobody has written to for this long.
SETTLED_AFTER = timedelta(minutes=2)


def seal_message(root: Path, relative: str, master: MasterKey) -> bool:
    """Seal the message at ``root/relative``; False (logged) when it cannot be sealed now:
    the work order is kept whatever happens here, and the sweep tries again."""
    try:
        path = contained(root, relative)
        seal(path, master)
    except (OSError, RecordingPathRefused) as exc:
        log.warning("message %r not sealed yet: %s", relative, exc)
        return False
    return True


def seal_left_messages(
    root: Path, master: MasterKey, now: datetime | None = None, days: int | None = 2
) -> int:
    """Seal the settled plaintext messages of the last ``days`` days' folders (None: of every
    day, as after an upgrade); how many it sealed."""
    now = now or datetime.now(UTC)
    sealed = 0
    for folder in _day_folders(root / MESSAGES_FOLDER, now, days):
        for path in sorted(folder.glob("*")):
            if _waiting(path, now) and seal_message(root, str(path.relative_to(root)), master):
                sealed += 1
    return sealed


def _day_folders(messages: Path, now: datetime, days: int | None) -> list[Path]:
    if days is None:
        return sorted(p for p in messages.glob("*/*/*") if p.is_dir() and not p.is_symlink())
    dates = (now - timedelta(days=back) for back in range(days))
    return [f for f in (messages / f"{d:%Y/%m/%d}" for d in dates) if f.is_dir()]


def _waiting(path: Path, now: datetime) -> bool:
    if SEALING_SUFFIX in path.name or not path.is_file() or path.is_symlink():
        return False
    settled = now - datetime.fromtimestamp(path.stat().st_mtime, UTC) > SETTLED_AFTER
    return settled and not is_sealed(path)
