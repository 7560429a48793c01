"""queue_log lines that existing queue-reporting tools understand."""

from __future__ import annotations

from ivr.acd.queue import QueueReport
from ivr.acd.queuelog import queue_log_lines

T0 = 1_764_000_000.0


def report(status: str, **kw: object) -> QueueReport:
    values: dict[str, object] = {
        "call_id": "1764.7",
        "line": "114",
        "caller_number": "13800000000",
        "skill": "booking",
        "priority": 0,
        "queued_at": T0,
        "left_at": T0 + 95,
        "status": status,
    }
    values.update(kw)
    return QueueReport(**values)  # type: ignore[arg-type]


def test_answered_call_after_one_missed_ring() -> None:
    lines = queue_log_lines(
        report("answered", agent_id=3, answered_at=T0 + 20, talk_seconds=70, hold_seconds=5,
               unanswered_rings=1)
    )  # fmt: skip
    assert lines == [
        "1764000000|1764.7|booking|NONE|ENTERQUEUE||",
        "1764000000|1764.7|booking|NONE|RINGNOANSWER|0",
        "1764000020|1764.7|booking|Agent/3|CONNECT|20||0",
        "1764000095|1764.7|booking|Agent/3|COMPLETEAGENT|20|75|1",
    ]
    assert not any("13800000000" in line for line in lines)  # no phone number on file


def test_abandon_callback_and_timeout() -> None:
    assert queue_log_lines(report("abandoned"))[-1].endswith("|ABANDON|1|1|95")
    assert queue_log_lines(report("callback"))[-1].endswith("|EXITWITHKEY|*|1|1|95")
    assert queue_log_lines(report("voicemail"))[-1].endswith("|EXITWITHTIMEOUT|1|1|95")
