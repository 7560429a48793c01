"""The audit trail's hash chains, checked without a database (pure).

Each record ``r`` at position ``n`` of chain ``c`` stores
``row_hash = SHA-256(canonical(c, n, p, r))`` where ``p`` is the record before it in that
chain (its id and stored hash). The canonical form is the concatenation of these fields, each
as a 4-byte big-endian length and its UTF-8 bytes:

    c, n, p.id ('' for the first), p.row_hash ('' for the first), r.id,
    r.at in UTC as 2026-12-03T10:00:00.123456, r.actor, r.action, r.target, r.source_ip,
    r.details as stored (the JSON text)

The database computes the same (migration 0500_security, ``audit_row_hash``) when it links a
record at commit; ``verify`` recomputes it here, independently of the database's functions,
and walks each chain's links from its anchor to its head:

- a record whose content no longer gives its stored hash was **edited**;
- a record whose stored link does not match the record before it follows one that was
  edited and re-hashed (**broken** link: the record before it was changed); the chain's
  head does the same for its newest record;
- a gap in the positions is a **deleted** record, named by the link of the record after it
  (or, at the end, by the chain's head);
- two records at one position are a **forked** chain; a record without a chain was written
  around the trigger (**unchained**).

Several chains (sixteen), not one, because a chain's head stays locked until its writer's
commit is on disk: see the migration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

ProblemKind = Literal["edited", "broken", "deleted", "forked", "unchained", "anchor"]


@dataclass(frozen=True)
class ChainedRecord:
    """An audit record as the chain sees it: its content as text, its chain columns."""

    id: int
    at: str  # UTC, YYYY-MM-DDTHH:MM:SS.ffffff
    actor: str
    action: str
    target: str
    source_ip: str
    details: str  # the stored JSON text
    chain_id: int | None
    chain_seq: int | None
    prev_id: int | None
    prev_hash: str | None
    row_hash: str | None


@dataclass(frozen=True)
class Link:
    """A point of a chain: position, record id and hash. The head is the last record linked;
    the anchor is where the chain starts (the last record retention removed)."""

    seq: int
    record_id: int | None
    hash: str


GENESIS = Link(0, None, "")


@dataclass(frozen=True)
class Ends:
    """Where one chain starts and ends, as its row in audit_chain says."""

    anchor: Link
    head: Link


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    record_id: int | None
    chain_seq: int | None
    message: str


@dataclass(frozen=True)
class Verdict:
    records: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _field(value: str) -> bytes:
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def record_hash(chain: int, seq: int, prev: Link, record: ChainedRecord) -> str:
    fields = (
        str(chain),
        str(seq),
        "" if prev.record_id is None else str(prev.record_id),
        prev.hash,
        str(record.id),
        record.at,
        record.actor,
        record.action,
        record.target,
        record.source_ip,
        record.details,
    )
    return hashlib.sha256(b"".join(_field(value) for value in fields)).hexdigest()


class _ChainWalk:
    """One chain's check, record by record in position order."""

    def __init__(self, chain: int, ends: Ends, problems: list[Problem]) -> None:
        self.chain = chain
        self.head = ends.head
        self.next = Link(ends.anchor.seq + 1, ends.anchor.record_id, ends.anchor.hash)
        self.problems = problems

    def take(self, record: ChainedRecord, seq: int) -> None:
        if seq < self.next.seq:
            self.problems.append(
                Problem("forked", record.id, seq,
                        f"record {record.id} repeats position {seq} of chain {self.chain}")
            )  # fmt: skip
            return
        stored_prev = Link(seq - 1, record.prev_id, record.prev_hash or "")
        if seq > self.next.seq:
            self.problems.append(self._deleted(self.next.seq, seq - 1, record.prev_id))
        elif (stored_prev.record_id, stored_prev.hash) != (self.next.record_id, self.next.hash):
            changed = self.next.record_id
            self.problems.append(
                Problem("broken", changed, seq - 1,
                        f"record {changed} was changed after it was chained "
                        f"(record {record.id} no longer links to it)")
            )  # fmt: skip
        if record_hash(self.chain, seq, stored_prev, record) != record.row_hash:
            self.problems.append(
                Problem("edited", record.id, seq,
                        f"record {record.id} was edited (its content no longer matches its hash)")
            )  # fmt: skip
        self.next = Link(seq + 1, record.id, record.row_hash or "")

    def finish(self) -> None:
        if self.head.seq >= self.next.seq:
            self.problems.append(self._deleted(self.next.seq, self.head.seq, self.head.record_id))
        elif (self.head.record_id, self.head.hash) != (self.next.record_id, self.next.hash):
            # The newest record, edited and re-hashed: no record links to it, but the head does.
            changed = self.next.record_id
            self.problems.append(
                Problem("broken", changed, self.next.seq - 1,
                        f"record {changed} was changed after it was chained "
                        f"(the head of chain {self.chain} no longer matches it)")
            )  # fmt: skip

    def _deleted(self, first: int, last: int, last_id: int | None) -> Problem:
        where = f"chain {self.chain}, position {last}"
        if first == last:
            return Problem("deleted", last_id, last, f"record {last_id} ({where}) was deleted")
        return Problem(
            "deleted",
            last_id,
            last,
            f"records at positions {first}-{last} of chain {self.chain} were deleted "
            f"(the last was record {last_id})",
        )


def verify(records: Iterable[ChainedRecord], chains: dict[int, Ends]) -> Verdict:
    """Check ``records`` ordered by chain and position (unchained ones last) against each
    chain's anchor and head; every problem names the record it concerns."""
    problems: list[Problem] = []
    walks = {chain: _ChainWalk(chain, ends, problems) for chain, ends in chains.items()}
    count = 0
    for record in records:
        count += 1
        walk = walks.get(record.chain_id) if record.chain_id is not None else None
        if walk is None or record.chain_seq is None:
            problems.append(
                Problem("unchained", record.id, None, f"record {record.id} is not in a chain")
            )
            continue
        walk.take(record, record.chain_seq)
    for walk in walks.values():
        walk.finish()
    return Verdict(count, problems)
