"""A sealed recording served as audio: decrypted as it is sent, whole or one byte range.

Players seek with ``Range: bytes=a-b``; only the chunks covering the range are decrypted.
Every chunk to be sent is checked before the answer starts, so a tampered file is refused with
a clear error (409 ``recording-tampered``), never a download that breaks off halfway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from agent_desk.state import AppState
from recordings.keys import master_key
from recordings.sealed import SealedReader

SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive


class Unsatisfiable(Exception):
    pass


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, or None for the whole file (no header, several ranges or a
    malformed one: RFC 9110 lets a server ignore those); Unsatisfiable past the end."""
    match = SINGLE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        if int(last) == 0:
            raise Unsatisfiable()
        return ByteRange(max(0, size - int(last)), size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or start > end:
        raise Unsatisfiable()
    return ByteRange(start, end)


def recording_audio(
    state: AppState, path: Path, *, filename: str, download: bool, range_header: str | None
) -> Response:
    reader = SealedReader(path, master_key(state.settings))  # refuses a tampered header
    disposition = "attachment" if download else "inline"
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f"{disposition}; filename*=utf-8''{quote(filename)}",
    }
    try:
        wanted = requested_range(range_header, reader.size)
    except Unsatisfiable:
        headers["content-range"] = f"bytes */{reader.size}"
        return Response(status_code=416, headers=headers)
    start, end = (0, reader.size - 1) if wanted is None else (wanted.start, wanted.end)
    reader.verify(start, end)
    headers["content-length"] = str(max(0, end - start + 1))
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{end}/{reader.size}"
    return StreamingResponse(
        reader.read_range(start, end),
        status_code=206 if wanted is not None else 200,
        media_type="audio/wav",
        headers=headers,
    )
