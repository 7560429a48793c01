"""The queue's story in Asterisk's ``queue_log`` format, so that existing queue-reporting
tools (QueueMetrics and the like) can read our data too.

One line per event: ``epoch|callid|queue|agent|EVENT|data1|data2|data3``. The caller's number
is personal data and is left out of ENTERQUEUE (the format allows an empty field).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ivr.acd.queue import QueueObserver, QueueReport


def _line(at: float, report: QueueReport, agent: str, event: str, *data: object) -> str:
    fields = [str(int(at)), report.call_id, report.skill, agent or "NONE", event]
    return "|".join(fields + [str(d) for d in data])


def queue_log_lines(report: QueueReport) -> list[str]:
    wait = round(report.wait_seconds)
    agent = f"Agent/{report.agent_id}" if report.agent_id is not None else ""
    lines = [_line(report.queued_at, report, "", "ENTERQUEUE", "", "")]
    lines += [
        _line(report.queued_at, report, "", "RINGNOANSWER", 0)
        for _ in range(report.unanswered_rings)
    ]
    if report.status == "answered" and report.answered_at is not None:
        lines.append(_line(report.answered_at, report, agent, "CONNECT", wait, "", 0))
        talk = round(report.talk_seconds + report.hold_seconds)
        lines.append(_line(report.left_at, report, agent, "COMPLETEAGENT", wait, talk, 1))
    elif report.status == "callback":
        lines.append(_line(report.left_at, report, "", "EXITWITHKEY", "*", 1, 1, wait))
    elif report.status == "voicemail":
        lines.append(_line(report.left_at, report, "", "EXITWITHTIMEOUT", 1, 1, wait))
    else:
        lines.append(_line(report.left_at, report, "", "ABANDON", 1, 1, wait))
    return lines


class QueueLogWriter:
    """Appends each finished queue stay to a ``queue_log`` file."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def queue_left(self, report: QueueReport) -> None:
        await asyncio.to_thread(self._append, queue_log_lines(report))

    def _append(self, lines: Sequence[str]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in lines)


class QueueObservers:
    """Several observers as one (the call record and the queue_log, say)."""

    def __init__(self, *observers: QueueObserver) -> None:
        self._observers = observers

    async def queue_left(self, report: QueueReport) -> None:
        for observer in self._observers:
            await observer.queue_left(report)
