"""Call cards: what Asterisk itself says about a call once it has hung up.

A call record is written by the controller that serves the call. A call no controller took
(none answered FastAGI: the dialplan sent the caller to the fallback agents), or whose
controller was lost, would have none, and its recording would never be indexed. So the
dialplan writes a card for every inbound call and every ACD callback when the channel hangs
up (``[call-card]`` in ``asterisk_conf/extensions.conf``, a hangup handler): one line of
``key=value`` pairs joined by ``&`` in ``<recordings>/.calls/<uniqueid>.call``. A file, next
to the recordings, because it must be written whichever part is down, and read by whichever
part runs: the controllers' resync and the worker's recording sweep both settle the cards
(``card_records.py``).

Only the controller that owns a call may settle it while it can: a card of a call that went
to the fallback is settled at once (no controller holds it any more), any other after
``OWNER_GRACE_SECONDS``, when its controller has long closed the record itself. Each card is
claimed by renaming it (atomic on one file system), so two settlers never take the same one;
a claim whose settler died is taken again after ``STALE_CLAIM_SECONDS``.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("recordings.call_cards")

CARDS_DIR = ".calls"  # below the recordings directory, as Asterisk and Python see it
SUFFIX = ".call"
CLAIMED = ".claimed-"
UNREADABLE = ".unreadable"
# A card of a call its controller served waits this long: the controller closes the record.
OWNER_GRACE_SECONDS = 60.0
STALE_CLAIM_SECONDS = 300.0
WRITTEN_SECONDS = 1.0


class CardKind(enum.StrEnum):
    INBOUND = "inbound"
    CALLBACK = "callback"


class CardUnreadable(ValueError):
    pass


@dataclass(frozen=True)
class CallCard:
    kind: CardKind
    call_id: str  # the call record's id: the channel's uniqueid, as the controller's
    linked_id: str  # the call's linkedid (a record written under it is this call's too)
    line: str  # a line code; empty on a callback (its line is its parent call's)
    did: str
    caller: str  # digits as the carrier sent them; personal data, never logged
    started_at: datetime
    ended_at: datetime
    recording: str  # as Asterisk wrote it; empty when not recorded
    unrecorded: str  # why not (the dialplan's CC_UNRECORDED)
    done: bool  # a controller ended the conversation on purpose (CC_AGI_DONE)
    fallback: bool  # the dialplan's fallback served the caller
    lost: bool  # a controller serving the call was lost (CC_CONTROLLER_LOST)
    fallback_answered_at: datetime | None  # when a fallback agent answered, if one did
    parent: str  # a callback's queue call (CC_CALLBACK_CALL)

    @classmethod
    def parse(cls, text: str) -> CallCard:
        fields = dict(part.partition("=")[::2] for part in text.strip().split("&"))
        if fields.get("end") != "1":
            raise CardUnreadable("the card is cut short")
        try:
            kind = CardKind(fields["kind"])
            started = _epoch(fields["started"] or fields["ended"])
            ended = _epoch(fields["ended"])
            answered = fields["answered"] if fields["dial"] == "ANSWER" else ""
            fallback_answered = _epoch(answered) if answered else None
            # The controller's call id is its AGI channel's (agi_uniqueid: AGI sends no
            # linkedid), which is the channel this card is of.
            call_id, linked = fields["unique"], fields["call"]
        except (KeyError, ValueError) as exc:
            raise CardUnreadable(f"the card does not read: {exc}") from None
        if not call_id:
            raise CardUnreadable("the card names no call")
        return cls(
            kind=kind,
            call_id=call_id[:64],
            linked_id=(linked or call_id)[:64],
            line=fields.get("line", ""),
            did=fields.get("did", "")[:32],
            caller=fields.get("caller", ""),
            started_at=started,
            ended_at=ended,
            recording=fields.get("recording", ""),
            unrecorded=fields.get("unrecorded", "")[:32],
            done=fields.get("done") == "1",
            fallback=fields.get("fallback") == "1",
            lost=fields.get("lost") == "1",
            fallback_answered_at=fallback_answered,
            parent=fields.get("parent", "")[:64],
        )

    def ready(self, now: float) -> bool:
        """Whether no controller may still settle this call's record itself."""
        return self.fallback or now - self.ended_at.timestamp() >= OWNER_GRACE_SECONDS


def _epoch(value: str) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


@dataclass
class Claim:
    """A card taken by this settler: settle it, then ``done`` (removed) or ``release``."""

    path: Path  # the claimed file
    original: Path
    card: CallCard

    def done(self) -> None:
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        """Back for a later round (not ready yet, or the database was away)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.rename(self.original)


class CardBox:
    """The cards directory, as this process sees it."""

    def __init__(self, recordings_root: Path) -> None:
        self.dir = recordings_root / CARDS_DIR

    def claims(self, now: float | None = None) -> Iterator[Claim]:
        """Each card this settler won, ready to settle, oldest first."""
        now = time.time() if now is None else now
        for path in self._candidates(now):
            claimed = path.with_name(f"{path.name.split(CLAIMED)[0]}{CLAIMED}{uuid.uuid4().hex}")
            original = path.with_name(path.name.split(CLAIMED)[0])
            try:
                path.rename(claimed)  # only one settler's rename finds the file
            except FileNotFoundError:
                continue
            card = self._read(claimed)
            if card is None:
                continue
            claim = Claim(claimed, original, card)
            if not card.ready(now):
                claim.release()
                continue
            yield claim

    def _candidates(self, now: float) -> list[Path]:
        try:
            entries = list(os.scandir(self.dir))
        except FileNotFoundError:
            return []
        found: list[tuple[float, Path]] = []
        for entry in entries:
            try:
                stat = entry.stat()
            except FileNotFoundError:  # taken by another settler meanwhile
                continue
            # A card written this very second may still be being written.
            fresh = entry.name.endswith(SUFFIX) and now - stat.st_mtime >= WRITTEN_SECONDS
            # ctime: when it was claimed (a rename changes it); its settler died since.
            stale = CLAIMED in entry.name and now - stat.st_ctime > STALE_CLAIM_SECONDS
            if fresh or stale:
                found.append((stat.st_mtime, Path(entry.path)))
        return [path for _, path in sorted(found)]

    @staticmethod
    def _read(path: Path) -> CallCard | None:
        try:
            return CallCard.parse(path.read_text(encoding="utf-8", errors="replace"))
        except CardUnreadable as exc:
            # Kept for an operator, out of the way of the next rounds.
            log.error("call card %s set aside: %s", path.name, exc)
            path.rename(path.with_name(path.name.split(CLAIMED)[0] + UNREADABLE))
        except FileNotFoundError:
            pass
        return None
