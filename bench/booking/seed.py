"""bench/booking's data: a hospital, sessions of 100 slots, patients with no bookings yet, and
one account managing them all, written in bulk into the bench's scratch database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital
from backend.booking.patients import identity_columns, open_account
from backend.localtime import DEFAULT_TIMEZONE
from backend.models.booking import Patient
from backend.personal_data import PersonalDataCipher

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLOTS_PER_SESSION = 100
# Room for this many bookings a second on either side: about twice the most either has done
# here (bench/README.md). A run that outgrew its seed would find its sessions full and its
# patients booked already, and stop.
MOST_PER_SECOND = 6000

SESSIONS_SQL = """
INSERT INTO schedules (hospital_id, department_id, doctor_id, external_id, day, session,
  starts_at, ends_at, fee, capacity, status, stop_reason, updated_at)
SELECT :hospital, :dept, NULL, :tag || i, d, 'morning',
  (d + time '08:00') AT TIME ZONE :tz, (d + time '12:00') AT TIME ZONE :tz,
  50, :slots, 'open', '', now()
FROM generate_series(1, :n) AS i,
  LATERAL (SELECT (now() AT TIME ZONE :tz)::date + 1 + (i % 5) AS d) AS day
"""
SLOTS_SQL = """
INSERT INTO slots (schedule_id, seq, starts_at, channel, taken)
SELECT s.id, g, s.starts_at + g * interval '2 min', 'any', false
FROM schedules s, generate_series(1, :slots) AS g
"""
PATIENTS_SQL = """
INSERT INTO patients (id_hash, id_enc, id_masked, name_enc, name_masked, phone_hash, phone_enc,
  phone_masked, created_at)
SELECT 'bench-id-' || i, :id_enc, :id_masked, :name_enc, :name_masked, 'bench-phone-' || i,
  :phone_enc, :phone_masked, now()
FROM generate_series(1, :n) AS i
"""
# The sessions of each side: the HTTP endpoint's and pgbench's, so that neither fills the
# other's.
TAGS = ("H", "P")


@dataclass
class Seeded:
    token: str
    http_patients: list[int]
    http_sessions: list[int]
    pg_sessions: tuple[int, int]  # first and last id
    pg_first_patient: int
    pg_stride: int  # patients per pgbench client and round


def seed(
    url: str,
    data_key: str,
    *,
    bookings_per_side: int,
    http_patients: int,
    pg_stride: int,
    pg_blocks: int,
) -> Seeded:
    """A hospital, sessions of 100 slots enough for ``bookings_per_side`` on each side, and
    one account managing every patient. Every booking is for a patient with no bookings yet,
    on both sides, so that neither meets a longer history or another's quotas: HTTP takes the
    patients in turn, each pgbench client its own ``pg_stride`` patients of a block per round
    (``pg_blocks``)."""
    cipher = PersonalDataCipher(data_key)
    pg_patients = pg_stride * pg_blocks
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        sessions = _sessions(session, cipher, bookings_per_side)
        _patients(session, cipher, pg_patients + http_patients)
        account_id, token = open_account(session, BookingContext(cipher=cipher), "13900000000")
        session.execute(
            text(
                "INSERT INTO account_patients (account_id, patient_id) SELECT :a, id FROM patients"
            ),
            {"a": account_id},
        )
        patient_ids = list(session.execute(select(Patient.id).order_by(Patient.id)).scalars())
    engine.dispose()
    return Seeded(
        token=token,
        http_patients=patient_ids[pg_patients:],
        http_sessions=sessions["H"],
        pg_sessions=(sessions["P"][0], sessions["P"][-1]),
        pg_first_patient=patient_ids[0],
        pg_stride=pg_stride,
    )


def _sessions(
    session: Session, cipher: PersonalDataCipher, bookings_per_side: int
) -> dict[str, list[int]]:
    """The hospital, its department, and each side's sessions with their slots: their ids."""
    hospital = create_hospital(session, cipher, code="bench", name="北京协和医院")
    dept = session.execute(
        text(
            "INSERT INTO departments (hospital_id, code, name, intro) "
            "VALUES (:h, 'NK', '内科', '') RETURNING id"
        ),
        {"h": hospital.id},
    ).scalar_one()
    for tag in TAGS:
        session.execute(
            text(SESSIONS_SQL),
            {
                "hospital": hospital.id,
                "dept": dept,
                "tag": tag,
                "n": -(-bookings_per_side // SLOTS_PER_SESSION),
                "slots": SLOTS_PER_SESSION,
                # The desk under test reads CC_TIMEZONE like any process; the bench's default.
                "tz": DEFAULT_TIMEZONE,
            },
        )
    session.execute(text(SLOTS_SQL), {"slots": SLOTS_PER_SESSION})
    return {
        tag: list(
            session.execute(
                text("SELECT id FROM schedules WHERE external_id LIKE :t ORDER BY id"),
                {"t": tag + "%"},
            ).scalars()
        )
        for tag in TAGS
    }


def _patients(session: Session, cipher: PersonalDataCipher, count: int) -> None:
    """Bench-only identities: one registered identity's columns for all (ciphertexts and
    masks, as registration stores them), unique look-up hashes that no look-up uses."""
    identity = identity_columns(cipher, "110105199001010011", "测试", "13800000000")
    session.execute(
        text(PATIENTS_SQL),
        {**{k: v for k, v in identity.items() if not k.endswith("_hash")}, "n": count},
    )
