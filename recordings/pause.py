"""Recordings paused because their disk is nearly full.

The pause is a marker file at the top of the recordings directory: the dialplan
(``[record-call]`` in asterisk_conf/extensions.conf, for inbound calls and the ACD's
callbacks) tests it with ``STAT(e,...)`` before starting MixMonitor, and the controller
before recording an outbound call, so a call starts unrecorded (flagged ``call_records.unrecorded``) instead of failing on a full disk. A file,
not an Asterisk variable: it survives an Asterisk restart and needs no AMI right.
"""

from __future__ import annotations

from pathlib import Path

MARKER = ".recording-paused"  # the dialplan names it too
DISK_FULL = "disk_full"  # call_records.unrecorded when the pause kept a call off file


def recordings_paused(root: Path) -> bool:
    return (root / MARKER).exists()


def pause_recordings(root: Path) -> bool:
    """Pause; True when this call paused them (they were running)."""
    marker = root / MARKER
    if marker.exists():
        return False
    marker.touch()  # empty: it needs an inode, no free block
    return True


def resume_recordings(root: Path) -> bool:
    """Resume; True when they were paused."""
    marker = root / MARKER
    if not marker.exists():
        return False
    marker.unlink(missing_ok=True)
    return True
