from __future__ import annotations

import pytest

from backend.events import AgentStateChanged, CallOffered, decode, encode


def test_events_round_trip_with_their_type() -> None:
    event = CallOffered(7, "1764.1", "114", "13800138000", "booking", "book", True, ["welcome"])
    back = decode(encode(event))
    assert back == event
    assert isinstance(decode(encode(AgentStateChanged(3, "ready"))), AgentStateChanged)


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        decode('{"type": "Nope"}')
