"""The call card as the dialplan's [call-card] writes it: read back, judged ready, and the
disposition a record written from it gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.models.calls import Disposition
from ivr.resync.cards import card_disposition
from recordings.call_cards import OWNER_GRACE_SECONDS, CallCard, CardKind, CardUnreadable

EXTENSIONS = Path(__file__).resolve().parents[2] / "asterisk_conf/extensions.conf"

# What Asterisk writes for a caller no controller took, whom the fallback agent answered.
FALLBACK_CARD = (
    "kind=inbound&call=1764770000.16&unique=1764770000.17&line=114&did=114&"
    "caller=+8613912345678&started=1764770000&ended=1764770012&"
    "recording=/cc/recordings/2026/12/03/1764770000.17.wav&unrecorded=&done=&fallback=1&"
    "lost=&dial=ANSWER&answered=1764770008&parent=&end=1"
)


def test_the_dialplan_writes_every_field_the_card_reads() -> None:
    text = EXTENSIONS.read_text(encoding="utf-8")
    (written,) = re.findall(r"Set\(FILE\([^)]*\.call\)=(.*)\)$", text, re.MULTILINE)
    keys = [part.split("=", 1)[0] for part in written.split("&")]
    assert keys == [part.split("=", 1)[0] for part in FALLBACK_CARD.split("&")]


def test_a_fallback_card_reads_back_and_is_ready_at_once() -> None:
    card = CallCard.parse(FALLBACK_CARD + "\n")
    assert (card.kind, card.call_id, card.line, card.caller) == (
        CardKind.INBOUND,
        "1764770000.17",
        "114",
        "+8613912345678",
    )
    assert (card.ended_at - card.started_at).total_seconds() == 12
    assert card.fallback and not card.lost and not card.done
    assert card.fallback_answered_at is not None
    assert (card.ended_at - card.fallback_answered_at).total_seconds() == 4
    assert card.ready(card.ended_at.timestamp())
    assert card_disposition(card) is Disposition.FALLBACK


def test_a_served_call_waits_for_its_controller() -> None:
    served = FALLBACK_CARD.replace("fallback=1", "fallback=").replace("done=", "done=1")
    card = CallCard.parse(served)
    ended = card.ended_at.timestamp()
    assert not card.ready(ended + 5)
    assert card.ready(ended + OWNER_GRACE_SECONDS)
    assert card_disposition(card) is Disposition.ABANDONED_IVR


def test_a_callback_card_is_its_own_channel_and_a_lost_one_says_so() -> None:
    callback = FALLBACK_CARD.replace("kind=inbound", "kind=callback")
    card = CallCard.parse(callback.replace("fallback=1", "fallback="))
    assert (card.call_id, card.linked_id) == ("1764770000.17", "1764770000.16")
    assert card_disposition(card) is Disposition.CONTROLLER_LOST
    lost = CallCard.parse(FALLBACK_CARD.replace("lost=", "lost=1"))
    assert card_disposition(lost) is Disposition.CONTROLLER_LOST


@pytest.mark.parametrize(
    "text",
    [
        FALLBACK_CARD.removesuffix("&end=1"),  # cut short while being written
        FALLBACK_CARD.replace("kind=inbound", "kind=fax"),
        FALLBACK_CARD.replace("ended=1764770012", "ended="),
        FALLBACK_CARD.replace("unique=1764770000.17", "unique="),
    ],
)
def test_a_card_that_does_not_read_is_refused(text: str) -> None:
    with pytest.raises(CardUnreadable):
        CallCard.parse(text)
