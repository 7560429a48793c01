"""Recordings' data keys re-wrapped under the newest master key (``callcenter keys rotate``).

Each sealed recording keeps its own data key wrapped by the master key; before an old master
key is dropped, every recording wrapped under it is re-wrapped under the newest. Only the
header is rewritten (the audio chunks are copied as they are), one file at a time, each
replaced in a single rename, so playback goes on meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from recordings.sealed import (
    SEALING_SUFFIX,
    MasterKey,
    RecordingTampered,
    is_sealed,
    rewrap,
    wrapped_under,
)

log = logging.getLogger("recordings.rotation")


@dataclass(frozen=True)
class Rewrapped:
    rewrapped: int  # now under the newest key
    refused: int  # could not be opened (tampered, or under a key no longer listed)


def rewrap_all(root: Path, master: MasterKey) -> Rewrapped:
    current = master.current_key_id
    rewrapped = refused = 0
    for path in sorted(root.rglob("*")):
        if SEALING_SUFFIX in path.name or path.is_symlink() or not path.is_file():
            continue
        try:
            if not is_sealed(path) or wrapped_under(path) == current:
                continue
            rewrapped += rewrap(path, master)
        except (OSError, RecordingTampered) as exc:
            log.warning("recording %s not re-wrapped: %s", path.relative_to(root), exc)
            refused += 1
    return Rewrapped(rewrapped, refused)
