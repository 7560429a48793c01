"""Two setups building the shared Asterisk root at once: the second waits and reuses it."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

from ivr.pbx import rootfs


def test_a_second_build_waits_for_the_first_and_reuses_its_root(tmp_path: Path) -> None:
    root = tmp_path / "asterisk-root"
    results: list[bool] = []
    with open(tmp_path / "asterisk-root.lock", "w") as first_builder:
        fcntl.flock(first_builder, fcntl.LOCK_EX)
        second = threading.Thread(target=lambda: results.append(rootfs.build(root)))
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the second build must wait while the first holds the lock"
        # The first builder finishes: its root is complete when it releases the lock.
        (root / rootfs.ASTERISK_BINARY).parent.mkdir(parents=True)
        (root / rootfs.ASTERISK_BINARY).write_text("")
    second.join(timeout=10)
    assert results == [False]
    assert not (tmp_path / "asterisk-root.partial").exists()
