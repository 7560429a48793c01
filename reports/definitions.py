"""Which service-level formula and short-abandon threshold a report page uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports.kpi import DEFAULT_SHORT_ABANDON_SECONDS, SlFormula, footnotes
from reports.periods import ReportFilter


@dataclass(frozen=True)
class QueueDefinition:
    formula: SlFormula = SlFormula.OFFERED_MINUS_SHORT
    short_abandon_seconds: int = DEFAULT_SHORT_ABANDON_SECONDS

    def footnotes(self, keys: list[str]) -> list[str]:
        return footnotes(
            keys, formula=self.formula, short_abandon_seconds=self.short_abandon_seconds
        )


def queue_definition(session: Session, f: ReportFilter) -> QueueDefinition:
    """The queue's own setting when one queue is selected, else its line's, else the default.

    A page over several queues with different formulas uses the line (or global) default, and
    says which formula it used in its footnote.
    """
    if f.line is None:
        return QueueDefinition()
    row = session.execute(
        text(
            "SELECT sl_formula, short_abandon_seconds FROM report_queue_settings "
            "WHERE line = :line AND skill IN ('', :skill) ORDER BY skill DESC LIMIT 1"
        ),
        {"line": f.line, "skill": f.skill or ""},
    ).first()
    if row is None:
        return QueueDefinition()
    return QueueDefinition(SlFormula(row[0]), int(row[1]))
