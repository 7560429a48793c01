"""Call cards settled: the call record and indexed recording of every call Asterisk wrote a
card for (``recordings/call_cards.py``), whether or not a controller served it.

- No record: one is written, closed, from the card (``insert … on conflict do nothing`` on
  the unique call id, so a record its controller wrote meanwhile wins): ``fallback`` when no
  controller took the call, ``controller_lost`` when the one serving it was lost (or for a
  callback whose controller never wrote its attempt), ``abandoned_ivr`` when the caller hung
  up before any controller opened it. A fallback agent's answer gives the answer time and
  talk; the caller's number is stored protected as the controller stores it.
- An open record: closed at the card's hang-up time, as the resync closes a lost call.
- The recording: registered in the index and linked to the record (both idempotent), then
  completed once Asterisk has closed it (or by the sweep).

Run by each controller's resync rounds and by the worker's recording sweep, so the cards
are settled while either runs; several settlers at once never share a card (each claims it
by a rename) and every write is conditional, so none writes a record twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.lines import LINE_CODES
from backend.models.calls import CallRecord, Direction, Disposition, Line
from backend.personal_data import PersonalDataCipher, protected_number
from ivr.resync.records import close_lost_call
from recordings.call_cards import CallCard, CardBox, CardKind
from recordings.index import RecordingIndex
from recordings.paths import RecordingPathRefused

log = logging.getLogger("ivr.resync")

CATEGORIES = {CardKind.INBOUND: "call", CardKind.CALLBACK: "callback"}
# How long a settler waits for Asterisk to close a recording before leaving it to the sweep.
FINISH_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class CardReport:
    created: tuple[str, ...] = ()  # records written from a card
    closed: tuple[str, ...] = ()  # open records a card closed
    settled: int = 0  # cards done with


def card_disposition(card: CallCard) -> Disposition:
    """How a call no controller recorded ended, by what the dialplan saw."""
    if card.fallback:
        return Disposition.CONTROLLER_LOST if card.lost else Disposition.FALLBACK
    if card.kind is CardKind.CALLBACK or card.lost:
        return Disposition.CONTROLLER_LOST
    return Disposition.ABANDONED_IVR


class CardSettler:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        recordings: RecordingIndex,
        cipher: PersonalDataCipher,
        cards_root: Path | None = None,
    ) -> None:
        self._sessions = session_factory
        self._recordings = recordings
        self._cipher = cipher
        self.box = CardBox(cards_root or recordings.root)

    def settle(self, now: float | None = None) -> CardReport:
        """Settle every ready card; on a database error the card goes back and the round
        ends (the next one tries again)."""
        created: list[str] = []
        closed: list[str] = []
        settled = 0
        for claim in self.box.claims(now):
            try:
                outcome = self._settle(claim.card)
            except SQLAlchemyError as exc:
                claim.release()
                log.warning("call cards left for later: %s", type(exc).__name__)
                break
            claim.done()
            settled += 1
            if outcome == "created":
                created.append(claim.card.call_id)
            elif outcome == "closed":
                closed.append(claim.card.call_id)
        if created or closed:
            log.warning(
                "call cards: %d records written for calls no controller recorded, %d closed",
                len(created),
                len(closed),
            )
        return CardReport(tuple(created), tuple(closed), settled)

    def _settle(self, card: CallCard) -> str:
        with transaction(self._sessions) as session:
            ids = {card.call_id, card.linked_id}
            record = session.scalar(select(CallRecord).where(CallRecord.call_id.in_(ids)))
            if record is None:
                outcome = "created" if self._create(session, card) else ""
                line = self._line(session, card)
            else:
                closed = close_lost_call(session, record.call_id, None, card.ended_at)
                outcome = "closed" if closed else ""
                line = record.line.value
                if card.unrecorded and record.recording_id is None and not record.unrecorded:
                    record.unrecorded = card.unrecorded  # kept off file on purpose: say why
        self._index(card, record.call_id if record is not None else card.call_id, line)
        return outcome

    def _create(self, session: Session, card: CallCard) -> bool:
        values = self._values(session, card)
        result = session.execute(
            insert(CallRecord)
            .values(call_id=card.call_id, **values)
            .on_conflict_do_nothing(index_elements=["call_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _values(self, session: Session, card: CallCard) -> dict[str, object]:
        values: dict[str, object] = {
            "line": Line(self._line(session, card)),
            "direction": Direction.INBOUND,
            "did": card.did,
            "started_at": card.started_at,
            "ended_at": card.ended_at,
            "disposition": card_disposition(card),
            "unrecorded": card.unrecorded,
        }
        if card.fallback_answered_at is not None:
            talk = (card.ended_at - card.fallback_answered_at).total_seconds()
            values["answered_at"] = card.fallback_answered_at
            values["talk_seconds"] = round(max(0.0, talk), 3)
        if card.kind is CardKind.CALLBACK:
            values |= self._callback_values(session, card)
        else:
            values |= protected_number(self._cipher, card.caller)
        return values

    @staticmethod
    def _callback_values(session: Session, card: CallCard) -> dict[str, object]:
        """A callback calls the citizen of the call it follows up: that call's number."""
        parent = _parent(session, card)
        values: dict[str, object] = {"direction": Direction.OUTBOUND}
        if parent is not None:
            values |= {
                "parent_call_id": parent.call_id,
                "caller_number": parent.caller_number,
                "caller_enc": parent.caller_enc,
                "caller_hash": parent.caller_hash,
                "did": parent.did,
                "skill": parent.skill,
            }
        return values

    @staticmethod
    def _line(session: Session, card: CallCard) -> str:
        if card.line in LINE_CODES:
            return card.line
        parent = _parent(session, card) if card.kind is CardKind.CALLBACK else None
        return parent.line.value if parent is not None else LINE_CODES[0]

    def _index(self, card: CallCard, call_id: str, line: str) -> None:
        if not card.recording or card.unrecorded:
            return
        category = CATEGORIES[card.kind]
        try:
            self._recordings.register(call_id, card.recording, line, category)
        except RecordingPathRefused as exc:
            log.error("call %s: recording not indexed: %s", call_id, exc.message)
            return
        self._recordings.finish(call_id, None, FINISH_WAIT_SECONDS)


def _parent(session: Session, card: CallCard) -> CallRecord | None:
    if not card.parent:
        return None
    return session.scalar(select(CallRecord).where(CallRecord.call_id == card.parent))
