"""Building the work-order service from settings, for the web app, the worker and the IVR.

``WorkOrders`` is built once per process (the desk's application state holds one): the
deadline policy is taken from settings, the cipher made and the calendar source chosen then,
not on every request. Each unit of work asks it for a service on its own session.

Deadlines read the holiday calendar the administrator enters (``backend/holiday_calendar``,
cached per process, a new year seen without restart) when given the database; without it
(a script with no database) the built-in file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from backend.holiday_calendar.live import live_calendar
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import Calendar, WorkCalendar
from backend.workorders.deadlines import Deadlines
from backend.workorders.desk_notifier import DeskNotifier
from backend.workorders.duplicates import DuplicateRules
from backend.workorders.notifier import Notifier
from backend.workorders.reading import WorkOrderReader
from backend.workorders.service import WorkOrderService


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    # Read once per process: the YAML file does not change while the process runs.
    return WorkCalendar.load()


def deadlines_for(
    settings: Settings, session_factory: sessionmaker[Session] | None = None
) -> Deadlines:
    calendar: Calendar = (
        default_calendar() if session_factory is None else live_calendar(session_factory)
    )
    return Deadlines(calendar, settings.workorder)


@dataclass(frozen=True)
class WorkOrders:
    """What every work-order service of a process shares."""

    cipher: PersonalDataCipher
    deadlines: Deadlines
    rules: DuplicateRules = field(default_factory=DuplicateRules)

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: sessionmaker[Session] | None = None
    ) -> WorkOrders:
        """Raises ``ConfigError`` naming the variable for a wrong ``CC_WORKORDER_*``."""
        cipher = PersonalDataCipher.of(settings)
        return cls(cipher, deadlines_for(settings, session_factory))

    def service(self, session: Session, notifier: Notifier | None = None) -> WorkOrderService:
        """The service on ``session``; notifications go to the desk unless told otherwise."""
        told = notifier if notifier is not None else DeskNotifier(session)
        return WorkOrderService(session, self.cipher, self.deadlines, told, self.rules)

    def reader(self, session: Session) -> WorkOrderReader:
        return WorkOrderReader(session, self.cipher)


def workorder_service(
    session: Session, settings: Settings, notifier: Notifier | None = None
) -> WorkOrderService:
    """A service built from scratch, for one-off users (a script, a test); a process that
    makes many keeps a ``WorkOrders``."""
    factory = sessionmaker(bind=session.get_bind())
    return WorkOrders.from_settings(settings, factory).service(session, notifier)
