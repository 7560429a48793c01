"""The calendar the hours and deadlines read: the entered years, cached in each process.

Each process keeps one snapshot per database (``calendar_source``). A question asked more than
``RECHECK_SECONDS`` after the last check starts a background compare of the table's stamp (one
tiny query), which reloads the years only when it changed; a save in this process reloads at
once. So
the controller, the desk and the worker see a newly entered year within a second, with no
restart and without reading the whole table on every call.

If the database cannot be read, the last snapshot stays in use (logged); before the first
read succeeds the built-in file (``backend/data/cn_holidays.yaml``) is the snapshot, strict
like the rest: years it lacks still say "calendar missing".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from threading import Lock, Thread
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.holiday_calendar.store import Stamp, entered_years, stamp
from backend.holiday_calendar.year import YearEntry
from backend.workcalendar import LiveCalendar, WorkCalendar

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0


def calendar_of(years: list[YearEntry]) -> WorkCalendar:
    """The strict calendar of exactly ``years``."""
    holidays = {day for entry in years for day in entry.holiday_days()}
    workdays = {day for entry in years for day in entry.workdays}
    return WorkCalendar.of_days((entry.year for entry in years), holidays, workdays)


class DatabaseCalendar:
    """Gives the current snapshot of the entered years (``LiveCalendar`` calls it).

    Only the first question waits for the database; later ones get the snapshot at once and,
    when it is older than the recheck interval, start one refresh in a background thread. The
    controller asks from its event loop: a slow or absent database (or a pool busy with
    calls) must never hold a call's time branch."""

    def __init__(
        self,
        engine: Engine,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = Lock()
        self._refreshing = Lock()  # held by the one refresh running
        self._snapshot = replace(WorkCalendar.load(), strict=True)
        self._stamp: Stamp | None = None
        self._checked: float | None = None

    def invalidate(self) -> None:
        """The years changed in this process: read them now (the saver waits, nobody else)."""
        self.refresh()

    def refresh(self) -> None:
        with self._refreshing:
            self._checked = self._monotonic()
            self._read()

    def __call__(self) -> WorkCalendar:
        with self._lock:
            checked = self._checked
        if checked is None:
            self.refresh()
        elif self._monotonic() - checked >= self._recheck and self._refreshing.acquire(False):
            self._checked = self._monotonic()
            Thread(target=self._refresh_then_release, name="holiday-calendar", daemon=True).start()
        with self._lock:
            return self._snapshot

    def _refresh_then_release(self) -> None:
        try:
            self._read()
        finally:
            self._refreshing.release()

    def _read(self) -> None:
        try:
            with self._engine.connect() as conn:
                current = stamp(conn)
                if current == self._stamp:
                    return
                snapshot = calendar_of(entered_years(Session(bind=conn)))
        except SQLAlchemyError as exc:
            log.warning("holiday calendar not read, the last one stays in use: %s", exc)
            return
        with self._lock:
            self._snapshot, self._stamp = snapshot, current


_SOURCES: WeakKeyDictionary[Engine, DatabaseCalendar] = WeakKeyDictionary()
_SOURCES_LOCK = Lock()


def calendar_source(engine: Engine) -> DatabaseCalendar:
    """This process's one source for ``engine``'s database."""
    with _SOURCES_LOCK:
        source = _SOURCES.get(engine)
        if source is None:
            source = _SOURCES[engine] = DatabaseCalendar(engine)
        return source


def engine_of(session_factory: sessionmaker[Session]) -> Engine:
    bind = session_factory.kw["bind"]
    return bind if isinstance(bind, Engine) else bind.engine


def live_calendar(session_factory: sessionmaker[Session]) -> LiveCalendar:
    """The calendar of ``session_factory``'s database, as the hours and deadlines read it."""
    return LiveCalendar(calendar_source(engine_of(session_factory)))
