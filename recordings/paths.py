"""Recording paths are contained in the recordings root: nothing names a file outside it.

A recording's path comes from the dialplan through AGI (a channel variable), is stored in the
database, and is later opened, repaired, served or deleted. Any of those hands could be
hostile (a forged AGI peer, an edited row, a symlink planted in the spool), so the path is
checked where it enters (``below``: lexically, against the root as Asterisk sees it) and
again where a file is touched (``contained``: after resolving symlinks, against the root as
Python sees it).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from backend.errors import Refused


class RecordingPathRefused(Refused, ValueError):
    """A recording path that would leave the recordings root. Also a ValueError: callers that
    index recordings treat every unusable path alike (log it, keep the call)."""

    code = "recording-path-refused"


def _refuse(path: str, why: str) -> RecordingPathRefused:
    # repr(): a control character or a newline in a forged path cannot forge a log line.
    return RecordingPathRefused(f"录音路径 {path!r} 已拒绝：{why}")


def check_relative(relative: str) -> str:
    """``relative`` as stored in the index: below the root, no ``..``, not absolute."""
    if not relative or "\x00" in relative:
        raise _refuse(relative, "路径为空或含有非法字符")
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute():
        raise _refuse(relative, "不能是绝对路径")
    if ".." in parts:
        raise _refuse(relative, "不能含有“..”")
    return str(PurePosixPath(*parts))


def below(root: str, path: str) -> str:
    """The part of ``path`` (absolute, as Asterisk sees it) below ``root``; refused when it
    is elsewhere or climbs out with ``..``."""
    prefix = root.rstrip("/") + "/"
    if not path.startswith(prefix):
        raise _refuse(path, f"不在录音目录 {root} 之内")
    return check_relative(path.removeprefix(prefix))


def contained(root: Path, relative: str) -> Path:
    """The file ``root/relative``, refused when it, or any directory or symlink on the way,
    resolves outside ``root``."""
    candidate = root / check_relative(relative)
    real_root = root.resolve()
    # strict=False: a recording being written may not exist yet; what exists is resolved.
    if not candidate.resolve().is_relative_to(real_root):
        raise _refuse(relative, "指向录音目录之外（符号链接）")
    return candidate
