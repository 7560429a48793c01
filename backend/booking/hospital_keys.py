"""Hospitals joined to the platform and their API keys, as ``callcenter hospital …`` makes
them: each change audited in the same transaction, the secret shown once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.api_keys import ApiKey, check_key_change, new_key
from backend.audit import Actor, record_audit
from backend.booking.demo_data import create_hospital
from backend.errors import Conflict, NotFound
from backend.models.booking import Hospital
from backend.personal_data import PersonalDataCipher


@dataclass(frozen=True)
class HospitalDraft:
    code: str
    name: str
    level: str
    district: str
    address: str = ""
    phone: str = ""


def add_hospital(
    session: Session, cipher: PersonalDataCipher, draft: HospitalDraft, actor: Actor, now: datetime
) -> Hospital:
    """A new hospital, without a key yet (``hospital_key``). The same code twice, even at
    the same moment, is 409 ``hospital-exists`` (the savepoint keeps the transaction usable)."""
    exists = Conflict(f"hospital {draft.code} already exists", code="hospital-exists")
    if session.scalar(select(Hospital.id).where(Hospital.code == draft.code)) is not None:
        raise exists
    try:
        with session.begin_nested():
            hospital = create_hospital(session, cipher, **asdict(draft))
    except IntegrityError as exc:
        raise exists from exc
    record_audit(session, actor, "hospital.add", f"hospital:{hospital.id}", now,
                 {"code": draft.code})  # fmt: skip
    return hospital


def hospital_key(
    session: Session,
    cipher: PersonalDataCipher,
    code: str,
    actor: Actor,
    now: datetime,
    *,
    rotate: bool,
) -> ApiKey:
    """Issue the hospital's first key, or (``rotate``) replace its key: the old one stops
    working when this commits."""
    hospital = session.scalar(select(Hospital).where(Hospital.code == code).with_for_update())
    if hospital is None:
        raise NotFound(f"no hospital {code}")
    previous = hospital.api_key_id
    check_key_change(f"hospital {code}", previous, rotate=rotate)
    key = new_key(f"hosp-{code}")
    hospital.api_key_id, hospital.api_secret_enc = key.key_id, cipher.encrypt(key.secret)
    if previous is not None:
        hospital.retired_key_id = previous  # refused from now on, but shown as this hospital's
    action = "hospital.key_rotate" if rotate else "hospital.key_issue"
    record_audit(session, actor, action, f"hospital:{hospital.id}", now,
                 {"key_id": key.key_id, "previous_key_id": previous})  # fmt: skip
    return key
