"""Recordings at rest: each file sealed under its own data key, read back a range at a time.

A finished recording is replaced by a sealed file (format ``CCREC1``):

    header   magic, chunk size, plaintext size, key id, wrapped data key
    chunks   AES-256-GCM of each ``chunk_size`` slice of the plaintext, 16-byte tag each

The data key is random per file and kept only wrapped (encrypted) by the personal-data
master key, with that key's id beside it, so rotating the master key re-wraps the key
(``rewrap``) and copies the audio chunks as they are. Chunk ``i`` is sealed with nonce ``i``
(unique: the key is the file's own) and the format, chunk size, length and a "last chunk" flag
as associated data, so a changed length, a chunk moved, dropped, swapped or cut off is refused,
and a byte range needs only the chunks that cover it.

Sealing is crash-safe and idempotent: the sealed file is written beside the plaintext under a
unique name, synced, then renamed over it (one atomic step: either the plaintext or the sealed
file is there, never neither, never half of one); sealing a sealed file does nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.errors import Conflict

MAGIC = b"CCREC1\x00\x00"
FIXED = struct.Struct(">8sIQHH")  # magic, chunk size, plaintext size, key id len, wrapped len
CHUNK_SIZE = 64 * 1024  # about four seconds of 8 kHz 16-bit audio
TAG_SIZE = 16
SEALING_SUFFIX = ".sealing-"


class MasterKey(Protocol):
    """What wraps the data keys: the personal-data cipher (backend/personal_data.py)."""

    current_key_id: str  # the key that wraps new data keys

    def encrypt(self, value: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


class RecordingTampered(Conflict):
    """A sealed recording that does not authenticate: edited, cut off or under a lost key."""

    code = "recording-tampered"


def _tampered(path: Path, why: str) -> RecordingTampered:
    return RecordingTampered(f"录音文件 {path.name} 校验失败（{why}），已拒绝播放")


@dataclass(frozen=True)
class Header:
    chunk_size: int
    plain_size: int
    key_id: str
    wrapped_key: str

    def encode(self) -> bytes:
        key_id, wrapped = self.key_id.encode(), self.wrapped_key.encode()
        fixed = FIXED.pack(MAGIC, self.chunk_size, self.plain_size, len(key_id), len(wrapped))
        return fixed + key_id + wrapped

    @property
    def chunks(self) -> int:
        # Always at least one chunk: an empty recording still carries a tag over its header.
        return max(1, -(-self.plain_size // self.chunk_size))

    def sealed_size(self) -> int:
        return len(self.encode()) + self.plain_size + self.chunks * TAG_SIZE


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def wrapped_under(path: Path) -> str:
    """The id of the master key that wraps the file's data key (header only, nothing opened)."""
    with open(path, "rb") as f:
        return _read_header(f, path).key_id


def _read_header(f: BinaryIO, path: Path) -> Header:
    fixed = f.read(FIXED.size)
    if len(fixed) < FIXED.size or not fixed.startswith(MAGIC):
        raise _tampered(path, "不是加密录音")
    _, chunk_size, plain_size, id_len, wrapped_len = FIXED.unpack(fixed)
    rest = f.read(id_len + wrapped_len)
    if chunk_size == 0 or len(rest) < id_len + wrapped_len:
        raise _tampered(path, "文件头损坏")
    try:
        key_id, wrapped = rest[:id_len].decode(), rest[id_len:].decode()
    except UnicodeDecodeError:
        raise _tampered(path, "文件头损坏") from None
    return Header(chunk_size, plain_size, key_id, wrapped)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _aad(header: Header, last: bool) -> bytes:
    # What the audio depends on: format, chunk size and length. Not the wrapped key (Fernet
    # authenticates it, and another key could not open the chunks anyway), so re-wrapping it
    # under a new master key rewrites the header and copies the chunks as they are.
    bound = FIXED.pack(MAGIC, header.chunk_size, header.plain_size, 0, 0)
    return bound + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class Sealed:
    """What sealing learnt about the plaintext: its size and SHA-256."""

    plain_size: int
    sha256: str


def seal(path: Path, master: MasterKey, chunk_size: int = CHUNK_SIZE) -> Sealed:
    """Replace the plaintext recording at ``path`` by its sealed form (nothing to do when it
    is sealed already: a second call, or a retry after a crash, reads it back instead)."""
    with open(path, "rb") as plain:
        if plain.read(len(MAGIC)) == MAGIC:
            return SealedReader(path, master).digest()
        plain.seek(0)
        size = os.fstat(plain.fileno()).st_size
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = master.encrypt(data_key.hex())
        header = Header(chunk_size, size, master.current_key_id, wrapped)
        # A unique name: the controller and the worker's sweep may seal the same file at once.
        temporary = path.with_name(path.name + SEALING_SUFFIX + secrets.token_hex(4))
        digest = _write_sealed(plain, temporary, header, AESGCM(data_key))
    os.replace(temporary, path)
    _sync_directory(path.parent)
    for stale in leftovers(path):  # from an attempt that died before its rename
        stale.unlink(missing_ok=True)
    return Sealed(size, digest)


def _write_sealed(plain: BinaryIO, temporary: Path, header: Header, aead: AESGCM) -> str:
    encoded = header.encode()
    digest = hashlib.sha256()
    with open(temporary, "wb") as out:
        out.write(encoded)
        for index in range(header.chunks):
            chunk = plain.read(header.chunk_size)
            digest.update(chunk)
            last = index == header.chunks - 1
            out.write(aead.encrypt(_nonce(index), chunk, _aad(header, last)))
        if plain.read(1):
            # The file grew while being sealed: its writer is still there. Keep the plaintext.
            out.close()
            temporary.unlink()
            raise OSError(f"{temporary.name}: recording still being written")
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def rewrap(path: Path, master: MasterKey) -> bool:
    """Wrap the file's data key under the master's current key (False: it is already). The
    chunks are copied unopened; the new file replaces the old one in one rename."""
    reader = SealedReader(path, master)  # unwraps under any listed key, or refuses
    if reader.header.key_id == master.current_key_id:
        return False
    data_key = bytes.fromhex(master.decrypt(reader.header.wrapped_key))
    header = Header(
        reader.header.chunk_size,
        reader.size,
        master.current_key_id,
        master.encrypt(data_key.hex()),
    )
    temporary = path.with_name(path.name + SEALING_SUFFIX + secrets.token_hex(4))
    with open(path, "rb") as old, open(temporary, "wb") as out:
        old.seek(len(reader.header.encode()))
        out.write(header.encode())
        for block in iter(lambda: old.read(1 << 20), b""):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def leftovers(path: Path) -> list[Path]:
    """Half-written sealed copies a crash left beside ``path`` (ciphertext only, never audio)."""
    return list(path.parent.glob(path.name + SEALING_SUFFIX + "*"))


class SealedReader:
    """Reads a sealed recording's plaintext, whole or as a byte range, checking every chunk."""

    def __init__(self, path: Path, master: MasterKey) -> None:
        self.path = path
        with open(path, "rb") as f:
            self.header = _read_header(f, path)
            self._offset = f.tell()
            actual = os.fstat(f.fileno()).st_size
        if actual != self.header.sealed_size():
            raise _tampered(path, "文件长度不符")
        try:
            self._aead = AESGCM(bytes.fromhex(master.decrypt(self.header.wrapped_key)))
        except Exception:  # a wrapped key that will not unwrap, whichever way it fails
            raise _tampered(path, f"数据密钥无法用主密钥 {self.header.key_id} 解开") from None

    @property
    def size(self) -> int:
        return self.header.plain_size

    def read_range(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The plaintext bytes ``start`` to ``end`` inclusive (default: to the end)."""
        last_byte = self.size - 1 if end is None else min(end, self.size - 1)
        size = self.header.chunk_size
        with open(self.path, "rb") as f:
            if start > last_byte:  # nothing to give (an empty recording): check the header
                self._chunk(f, 0)
                return
            for index in range(start // size, last_byte // size + 1):
                chunk = self._chunk(f, index)
                base = index * size
                yield chunk[max(0, start - base) : last_byte - base + 1]

    def verify(self, start: int = 0, end: int | None = None) -> None:
        """Check the chunks of a range before any of it is sent (then a refusal can still be
        a clear error answer, not a download cut off halfway)."""
        for _ in self.read_range(start, end):
            pass

    def read_all(self) -> bytes:
        return b"".join(self.read_range())

    def digest(self) -> Sealed:
        digest = hashlib.sha256()
        for block in self.read_range():
            digest.update(block)
        return Sealed(self.size, digest.hexdigest())

    def _chunk(self, f: BinaryIO, index: int) -> bytes:
        size = self.header.chunk_size
        plain_length = min(size, self.size - index * size)
        f.seek(self._offset + index * (size + TAG_SIZE))
        sealed = f.read(plain_length + TAG_SIZE)
        last = index == self.header.chunks - 1
        try:
            return self._aead.decrypt(_nonce(index), sealed, _aad(self.header, last))
        except InvalidTag:
            raise _tampered(self.path, f"第 {index + 1} 段内容被改动") from None
