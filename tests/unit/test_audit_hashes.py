"""The audit hash chains' check, without a database: intact chains verify; an edited, a
re-hashed, a deleted (in the middle, at the end), a repeated and an unchained record are each
found and named by id; a chain shortened by retention verifies from its anchor; a record
moved to another chain no longer matches."""

from __future__ import annotations

from dataclasses import replace

from backend.audit.chain import GENESIS, ChainedRecord, Ends, Link, record_hash, verify


def content(record_id: int) -> ChainedRecord:
    return ChainedRecord(
        id=record_id,
        at=f"2026-12-03T10:00:{record_id:02d}.000123",
        actor="admin1",
        action="agent.create",
        target=f"agent:{1000 + record_id}",
        source_ip="127.0.0.1",
        details='{"name": "赵坐席"}',
        chain_id=None,
        chain_seq=None,
        prev_id=None,
        prev_hash=None,
        row_hash=None,
    )


def chain(
    ids: list[int], start: Link = GENESIS, chain_id: int = 1
) -> tuple[list[ChainedRecord], Link]:
    """Records linked as the database links them; returns them and the head."""
    linked, prev = [], start
    for record_id in ids:
        seq = prev.seq + 1
        record = content(record_id)
        digest = record_hash(chain_id, seq, prev, record)
        linked.append(replace(record, chain_id=chain_id, chain_seq=seq, prev_id=prev.record_id,
                              prev_hash=prev.hash, row_hash=digest))  # fmt: skip
        prev = Link(seq, record_id, digest)
    return linked, prev


def found(records: list[ChainedRecord], head: Link, anchor: Link = GENESIS) -> list[tuple]:
    verdict = verify(records, {1: Ends(anchor, head)})
    return [(p.kind, p.record_id) for p in verdict.problems]


def test_intact_chains_verify() -> None:
    first, head1 = chain([11, 12, 15, 13])  # ids need not follow the chain's order
    second, head2 = chain([14, 16], chain_id=2)
    verdict = verify(first + second, {1: Ends(GENESIS, head1), 2: Ends(GENESIS, head2)})
    assert verdict.intact and verdict.records == 6


def test_the_hash_covers_every_field_the_chain_and_the_link() -> None:
    record = content(1)
    base = record_hash(1, 1, GENESIS, record)
    for field in ("at", "actor", "action", "target", "source_ip", "details"):
        assert record_hash(1, 1, GENESIS, replace(record, **{field: "x"})) != base, field
    assert record_hash(2, 1, GENESIS, record) != base  # another chain
    assert record_hash(1, 2, GENESIS, record) != base
    assert record_hash(1, 1, Link(0, 7, "ab"), record) != base
    # Fields are length-prefixed: moving text between neighbours changes the hash.
    shifted = replace(record, actor="admin1agent.", action="create")
    assert record_hash(1, 1, GENESIS, shifted) != base


def test_an_edited_record_is_named() -> None:
    records, head = chain([1, 2, 3])
    records[1] = replace(records[1], details='{"name": "钱坐席"}')
    assert found(records, head) == [("edited", 2)]


def test_an_edited_and_rehashed_record_is_named_by_the_broken_link() -> None:
    records, head = chain([1, 2, 3])
    edited = replace(records[1], target="agent:9999")
    prev = Link(1, 1, records[0].row_hash or "")
    records[1] = replace(edited, row_hash=record_hash(1, 2, prev, edited))
    assert found(records, head) == [("broken", 2)]


def test_a_rehashed_newest_record_is_named_through_the_head() -> None:
    records, head = chain([1, 2, 3])
    edited = replace(records[2], actor="someone")
    prev = Link(2, 2, records[1].row_hash or "")
    records[2] = replace(edited, row_hash=record_hash(1, 3, prev, edited))
    assert found(records, head) == [("broken", 3)]


def test_deleted_records_are_named_in_the_middle_and_at_the_end() -> None:
    records, head = chain([1, 2, 3, 4, 5])
    assert found(records[:2] + records[3:], head) == [("deleted", 3)]
    assert found(records[:4], head) == [("deleted", 5)]
    gap = found(records[:1] + records[3:], head)
    assert gap == [("deleted", 3)]  # positions 2-3; the last one's id is known


def test_a_repeated_position_and_an_unchained_record_are_found() -> None:
    records, head = chain([1, 2])
    forked = replace(records[1], id=9)
    unchained = content(10)
    assert found([records[0], records[1], forked, unchained], head) == [
        ("forked", 9),
        ("unchained", 10),
    ]


def test_a_chain_shortened_by_retention_verifies_from_its_anchor() -> None:
    records, head = chain([1, 2, 3, 4])
    anchor = Link(2, 2, records[1].row_hash or "")
    assert verify(records[2:], {1: Ends(anchor, head)}).intact
    # Without the anchor the first two are missing.
    assert found(records[2:], head) == [("deleted", 2)]


def test_a_record_moved_to_another_chain_is_found() -> None:
    first, head1 = chain([1, 2, 3])
    second, _ = chain([4], chain_id=2)
    # Record 3 re-linked at the end of chain 2, the heads made to match: its hash does not.
    moved = replace(first[2], chain_id=2, chain_seq=2, prev_id=4, prev_hash=second[0].row_hash)
    verdict = verify(first[:2] + second + [moved],
                     {1: Ends(GENESIS, head1),
                      2: Ends(GENESIS, Link(2, 3, moved.row_hash or ""))})  # fmt: skip
    assert [(p.kind, p.record_id) for p in verdict.problems] == [("edited", 3), ("deleted", 3)]
