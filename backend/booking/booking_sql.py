"""The SQL of the booking transaction, statement for statement.

``reservations.book`` runs these; ``bench/booking`` hands the very same text to pgbench (its
``:name`` variables are the same bind names), so the benchmark's baseline is this transaction
and not an imitation of it. Plain SQL rather than ORM statements because this is the hottest
path of the platform: the ORM's unit of work cost several milliseconds of CPU per booking.

The order is the order of the transaction: lock the patient (an online account books only for
patients it manages), read the session's facts and the patient's history for the rules, then
take a slot and write the booking, its event, its audit record and its text message (queued in
``sms_outbox``, see ``backend.sms.outbox``) in one statement, and read the receipt.

Each statement is prepared once per pooled connection and soon runs on a generic plan that
the connection keeps; so each is written such that its plan cannot depend on statistics (a
key look-up stays a key look-up however few rows the planner thought a table held).

``SqlRunner`` runs them on the session's own psycopg connection, inside the session's
transaction (SQLAlchemy's execution layer alone cost more CPU than the five statements);
``run_asyncpg`` runs them for the online API on an asyncpg connection.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy.orm import Session

T = TypeVar("T")

ACCOUNT_OF_TOKEN = "SELECT id AS account_id FROM booking_accounts WHERE token_hash = :token_hash"

LOCK_PATIENT = "SELECT id FROM patients WHERE id = :patient_id FOR UPDATE"

LOCK_PATIENT_BY_ID_HASH = "SELECT id FROM patients WHERE id_hash = :id_hash FOR UPDATE"

LOCK_PATIENT_OF_ACCOUNT = """
SELECT p.id FROM patients p
WHERE p.id = :patient_id
  AND EXISTS (SELECT 1 FROM account_patients ap
              WHERE ap.patient_id = p.id AND ap.account_id = :account_id)
FOR UPDATE OF p
"""

SESSION_FACTS = """
SELECT id AS schedule_id, hospital_id, department_id, day AS visit_day, starts_at, status
FROM schedules
WHERE id = :schedule_id
"""

# Written so that no statistics can change its plan (see the module's note on plans): a patient
# has a handful of bookings, and each one's session start is one look-up by key. As a join,
# with the statistics of a bookings table that was nearly empty when last analysed (a new
# deployment, the hour after a daily release), the planner hashed every session instead.
PATIENT_HISTORY = """
SELECT b.booked_at, b.visit_day, b.department_id, b.status,
       (SELECT s.starts_at FROM schedules s WHERE s.id = b.schedule_id) AS starts_at
FROM bookings b
WHERE b.patient_id = :patient_id
  AND (b.booked_at >= :since_booked OR b.visit_day >= :since_visit OR b.status = 'booked')
"""

# A slot may be taken when it is free, open to the channel and on sale (a cancelled slot goes
# back on sale at its random ``release_at``).
_FREE_SLOT = """
  NOT taken AND channel = ANY(:channels)
  AND (release_at IS NULL OR release_at <= CAST(:now AS timestamptz))
"""

# The next free slot of the session; ``SKIP LOCKED`` lets racing bookings take the following
# slots instead of queueing on the first one.
_TAKE_NEXT_SLOT = f"""
  UPDATE slots SET taken = true
  WHERE id = (SELECT id FROM slots WHERE schedule_id = :schedule_id AND {_FREE_SLOT}
              ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    AND NOT taken
  RETURNING id
"""

_TAKE_GIVEN_SLOT = f"""
  UPDATE slots SET taken = true
  WHERE id = :slot_id AND schedule_id = :schedule_id AND {_FREE_SLOT}
  RETURNING id
"""

# The booking code is random (ten digits, read out by agents and the IVR), so it can meet one
# already issued: with a million bookings on file one in ten thousand would. The statement
# takes the first of three random candidates not yet used; all three used is a one in 10^12
# event at that size. Each candidate is its own look-up in the code's unique index, evaluated
# only if the one before was taken: written as an anti-join over the three, the plan made
# while the table was small read every booking on file, for every booking.
_CANDIDATES = " ".join(
    f"WHEN NOT EXISTS (SELECT 1 FROM bookings used WHERE used.code = CAST({c} AS text)) "
    f"THEN CAST({c} AS text)"
    for c in (":code_a", ":code_b", ":code_c")
)
_WRITE_BOOKING = f"""
, booked AS (
  INSERT INTO bookings (code, slot_id, schedule_id, hospital_id, department_id, patient_id,
                        account_id, visit_day, status, channel, agent_id, actor, booked_at,
                        updated_at)
  SELECT CASE {_CANDIDATES} END,
         took.id, CAST(:schedule_id AS integer), CAST(:hospital_id AS integer),
         CAST(:department_id AS integer), CAST(:patient_id AS integer),
         CAST(:account_id AS integer), CAST(:visit_day AS date), 'booked', :channel,
         CAST(:agent_id AS integer), :actor, CAST(:now AS timestamptz),
         CAST(:now AS timestamptz)
  FROM took
  RETURNING id, code
), event AS (
  INSERT INTO booking_events (hospital_id, booking_id, kind, at)
  SELECT CAST(:hospital_id AS integer), id, 'booked', CAST(:now AS timestamptz) FROM booked
), audit AS (
  INSERT INTO audit_records (at, actor, action, target, source_ip, details)
  SELECT CAST(:now AS timestamptz), :actor, 'booking.create', 'booking:' || code, :source_ip,
         CAST(:details AS json)
  FROM booked
), notice AS (
  INSERT INTO sms_outbox (event, subject, booking_id, params, status, attempts,
                          next_attempt_at, created_at)
  SELECT 'booking-made', 'booking:' || id, id, CAST('{{}}' AS json), 'queued', 0,
         CAST(:now AS timestamptz), CAST(:now AS timestamptz)
  FROM booked
)
SELECT id AS booking_id FROM booked
"""

BOOK_NEXT_SLOT = f"WITH took AS ({_TAKE_NEXT_SLOT}){_WRITE_BOOKING}"
BOOK_GIVEN_SLOT = f"WITH took AS ({_TAKE_GIVEN_SLOT}){_WRITE_BOOKING}"

ANY_FREE_SLOT = f"""
SELECT EXISTS (SELECT 1 FROM slots WHERE schedule_id = :schedule_id AND {_FREE_SLOT}) AS free
"""

SLOT = "SELECT id, schedule_id, channel FROM slots WHERE id = :slot_id"

RECEIPT = """
SELECT b.code, b.status, b.channel, b.booked_at, b.visit_day,
       h.name AS hospital_name, h.code AS hospital_code, d.name AS department_name,
       coalesce(doc.name, '') AS doctor_name, coalesce(doc.title, '') AS doctor_title,
       s.day, s.session, s.fee, sl.seq, sl.starts_at AS slot_starts_at,
       p.name_masked, p.id_masked, p.phone_masked, p.name_enc, p.id_enc, p.phone_enc
FROM bookings b
JOIN schedules s ON s.id = b.schedule_id
JOIN hospitals h ON h.id = b.hospital_id
JOIN departments d ON d.id = b.department_id
LEFT JOIN doctors doc ON doc.id = s.doctor_id
JOIN slots sl ON sl.id = b.slot_id
JOIN patients p ON p.id = b.patient_id
WHERE b.id = :booking_id
"""


# The online booking's statements in the order it runs them (``book_for_account_steps``), each
# with whether the next statements use its row; bench/booking gives pgbench this list.
ONLINE_BOOKING: tuple[tuple[str, bool], ...] = (
    (ACCOUNT_OF_TOKEN, True),
    (LOCK_PATIENT_OF_ACCOUNT, False),
    (SESSION_FACTS, True),
    (PATIENT_HISTORY, False),
    (BOOK_NEXT_SLOT, True),
    (RECEIPT, False),
)


_BIND = re.compile(r"(?<![:\w]):([a-z_]\w*)")


def psycopg_style(sql: str) -> str:
    """``:name`` binds (SQLAlchemy's and pgbench's spelling) as psycopg's ``%(name)s``."""
    return _BIND.sub(r"%(\1)s", sql)


# A transaction is written once, as a generator of steps: it yields a query, gets back its
# row(s), decides, yields the next. ``SqlRunner`` drives it on a SQLAlchemy session's
# connection (desk, IVR), ``run_asyncpg`` on an asyncpg connection (online API). Either way a
# row reads its columns as attributes (``row.code``) and iterates over its values.
# An exception raised by the transaction leaves through the driver, whose caller rolls back.


@dataclass(frozen=True)
class One:
    """A query whose first row (or None) is sent back."""

    sql: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class All:
    """A query whose rows (a list) are sent back."""

    sql: str
    params: Mapping[str, Any]


SqlSteps = Generator[One | All, Any, T]


class SqlRunner:
    """Runs SQL steps on the session's psycopg connection, in the session's transaction."""

    def __init__(self, session: Session) -> None:
        session.flush()  # pending ORM changes must be visible to the plain SQL
        connection = session.connection().connection.driver_connection
        assert isinstance(connection, psycopg.Connection)
        self._connection: psycopg.Connection[Any] = connection

    def run(self, steps: SqlSteps[T]) -> T:
        cursor = self._connection.cursor(row_factory=namedtuple_row)
        try:
            step = next(steps)
            while True:
                cursor.execute(_converted(step.sql), step.params)
                step = steps.send(cursor.fetchone() if isinstance(step, One) else cursor.fetchall())
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            cursor.close()


async def run_asyncpg(connection: asyncpg.Connection, steps: SqlSteps[T]) -> T:
    """Runs SQL steps on an asyncpg connection; the caller owns the transaction.

    asyncpg rather than psycopg's async connection for the online API: with 200 requests in
    flight it spent less than half the CPU per round trip (its protocol is compiled and it
    keeps one reader per connection instead of re-arming one for every wait)."""
    try:
        step = next(steps)
        while True:
            sql, names = _numbered(step.sql)
            args = [step.params[name] for name in names]
            if isinstance(step, One):
                step = steps.send(await connection.fetchrow(sql, *args, record_class=Row))
            else:
                step = steps.send(await connection.fetch(sql, *args, record_class=Row))
    except StopIteration as done:
        result: T = done.value
        return result


class Row(asyncpg.Record):
    """An asyncpg record whose columns also read as attributes (``row.code``), like the
    named tuples of ``SqlRunner``, without copying each row into one. ``Record``'s own
    methods (``get``, ``keys``, ``values``, ``items``) win over columns of those names, so
    no step's query names a column so."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


_CONVERTED: dict[str, str] = {}


def _converted(sql: str) -> str:
    converted = _CONVERTED.get(sql)
    if converted is None:
        converted = _CONVERTED[sql] = psycopg_style(sql)
    return converted


_NUMBERED: dict[str, tuple[str, tuple[str, ...]]] = {}


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` binds as asyncpg's ``$1, $2 ...``, with the names in number order."""
    found = _NUMBERED.get(sql)
    if found is None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        found = _NUMBERED[sql] = (_BIND.sub(number, sql), tuple(names))
    return found
