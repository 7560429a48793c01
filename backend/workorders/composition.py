"""Building the work-order service from settings, for the web app, the worker and the IVR."""

from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy.orm import Session

from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from backend.workorders.deadlines import DeadlinePolicy, Deadlines
from backend.workorders.desk_notifier import DeskNotifier
from backend.workorders.notifier import Notifier
from backend.workorders.service import WorkOrderService


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    # Read once per process: the YAML file does not change while the process runs.
    return WorkCalendar.load()


def deadlines_for(settings: Settings) -> Deadlines:
    policy = DeadlinePolicy.from_env(os.environ, timezone=settings.timezone)
    return Deadlines(default_calendar(), policy)


def workorder_service(
    session: Session, settings: Settings, notifier: Notifier | None = None
) -> WorkOrderService:
    """The service on ``session``; notifications go to the desk unless told otherwise."""
    return WorkOrderService(
        session,
        PersonalDataCipher(settings.data_key.get_secret_value()),
        deadlines_for(settings),
        notifier if notifier is not None else DeskNotifier(session),
    )
