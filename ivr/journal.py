"""The call journal in PostgreSQL: a CallRecord per call and an IvrStep row per node visited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.calls import CallRecord, Disposition, IvrStep, Line
from backend.personal_data import mask_phone
from ivr.flows.ports import CallInfo, IvrExit, IvrSummary, StepRecord, SurveyResult

# How the IVR's way out becomes the call's disposition. QUEUE is absent on purpose: from the
# hand-off on, the ACD decides whether the call was answered or abandoned in the queue.
DISPOSITION_BY_EXIT = {
    IvrExit.ABANDONED: Disposition.ABANDONED_IVR,
    IvrExit.SELF_SERVICE: Disposition.SELF_SERVICE,
    IvrExit.MESSAGE: Disposition.VOICEMAIL,
    IvrExit.ERROR: Disposition.FALLBACK,
}


def _step_row(call_id: str, step: StepRecord) -> IvrStep:
    details = dict(step.details)
    if step.intent:
        details["intent"] = step.intent
    return IvrStep(
        call_id=call_id,
        seq=step.seq,
        node=step.node[:64],
        kind=step.kind[:32],
        at=step.at,
        seconds=step.seconds,
        input=step.input[:128],
        outcome=step.outcome[:64],
        details=details,
    )


class SqlCallJournal:
    """Implements ``ivr.flows.ports.CallJournal``; SQL runs in a worker thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._factory = session_factory
        self._now = now  # the call's clock (the demo's history runs a simulated one)

    async def call_started(self, call: CallInfo) -> None:
        await asyncio.to_thread(self._call_started, call)

    async def ivr_left(self, call: CallInfo, summary: IvrSummary) -> None:
        await asyncio.to_thread(self._ivr_left, call, summary)

    async def after_queue(
        self, call: CallInfo, steps: Sequence[StepRecord], survey: SurveyResult | None
    ) -> None:
        await asyncio.to_thread(self._after_queue, call, steps, survey)

    # -- blocking work ---------------------------------------------------------------------

    def _call_started(self, call: CallInfo) -> None:
        # The same call may enter the IVR twice (a transfer back to the menu), and the
        # controller's call lifecycle may have opened the record already (with the number
        # encrypted and hashed): keep the first. The number is never stored here in clear.
        statement = (
            insert(CallRecord)
            .values(
                call_id=call.call_id,
                line=Line(call.line),
                caller_number=mask_phone(call.caller_number)[:32],
                did=call.did[:32],
                started_at=self._now(),
                disposition=Disposition.IN_PROGRESS,
            )
            .on_conflict_do_nothing(index_elements=["call_id"])
        )
        with transaction(self._factory) as session:
            session.execute(statement)

    def _ivr_left(self, call: CallInfo, summary: IvrSummary) -> None:
        values: dict[str, object] = {
            "intent": summary.intent[:32],
            "ivr_seconds": summary.ivr_seconds,
            "elderly": summary.elderly,
        }
        if summary.exit is IvrExit.QUEUE:
            values.update(skill=summary.skill[:32], priority=summary.priority)
        with transaction(self._factory) as session:
            session.add_all(_step_row(call.call_id, step) for step in summary.steps)
            session.execute(
                update(CallRecord).where(CallRecord.call_id == call.call_id).values(**values)
            )
            disposition = DISPOSITION_BY_EXIT.get(summary.exit)
            if disposition is not None:
                # Only an open call gets its final disposition from the IVR.
                session.execute(
                    update(CallRecord)
                    .where(
                        CallRecord.call_id == call.call_id,
                        CallRecord.disposition == Disposition.IN_PROGRESS,
                    )
                    .values(disposition=disposition, ended_at=self._now())
                )

    def _after_queue(
        self, call: CallInfo, steps: Sequence[StepRecord], survey: SurveyResult | None
    ) -> None:
        # One transaction: the steps, the score and the survey's time and outcome land
        # together or not at all.
        with transaction(self._factory) as session:
            session.add_all(_step_row(call.call_id, step) for step in steps)
            if survey is not None:
                session.execute(
                    update(CallRecord)
                    .where(CallRecord.call_id == call.call_id)
                    .values(**survey_columns(survey))
                )


def survey_columns(survey: SurveyResult) -> dict[str, object]:
    """The call record's survey columns; a survey without a score clears any old one."""
    return {
        "satisfaction": survey.score,
        "survey_started_at": survey.started_at,
        "survey_seconds": survey.seconds,
        "survey_outcome": survey.outcome.value,
    }


def ivr_path(session: Session, call_id: str) -> list[IvrStep]:
    """The IVR path of one call in order (for the desk and for tests)."""
    rows = session.scalars(select(IvrStep).where(IvrStep.call_id == call_id).order_by(IvrStep.seq))
    return list(rows)
