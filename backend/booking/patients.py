"""Real-name patients (就诊人) and the online accounts that manage them.

ID numbers and phone numbers are stored encrypted, found by their keyed look-up hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.errors import BadBookingInput, BookingNotFound, BookingRefused
from backend.booking.rules import check_phone_patients
from backend.booking.views import PatientView
from backend.models.audit import AuditRecord
from backend.models.booking import Account, AccountPatient, Patient
from backend.personal_data import PersonalDataCipher, mask_id_number, mask_name, mask_phone

# Mainland mobile numbers, or fixed lines with area code (010xxxxxxxx).
_PHONE = re.compile(r"^(1\d{10}|0\d{9,11})$")
_NAME = re.compile(r"^[\u3400-\u9fff·A-Za-z ]{1,32}$")


def normalize_phone(raw: str) -> str:
    phone = raw.replace(" ", "").replace("-", "").strip()
    phone = phone.removeprefix("+86")
    if not _PHONE.match(phone):
        raise BadBookingInput(
            "手机号格式不正确，应为11位手机号或带区号的固定电话", code="bad-phone"
        )
    return phone


def normalize_name(raw: str) -> str:
    name = raw.strip()
    if not _NAME.match(name):
        raise BadBookingInput("姓名须为1到32个汉字或字母", code="bad-name")
    return name


@dataclass(frozen=True)
class NewPatient:
    """A caller's real-name details as the agent typed them (checked on registration)."""

    id_number: str
    name: str
    phone: str


class StoredIdentity(Protocol):
    """A patient's identity columns, on an ORM row or a query's row."""

    name_enc: str
    id_enc: str
    phone_enc: str
    name_masked: str | None
    id_masked: str | None
    phone_masked: str | None


def identity_columns(
    cipher: PersonalDataCipher, number: str, name: str, phone: str
) -> dict[str, str]:
    """What a patient's row stores of its identity: look-up hashes, ciphertexts and masks."""
    return {
        "id_hash": cipher.lookup_hash(number),
        "id_enc": cipher.encrypt(number),
        "id_masked": mask_id_number(number),
        "name_enc": cipher.encrypt(name),
        "name_masked": mask_name(name),
        "phone_hash": cipher.lookup_hash(phone),
        "phone_enc": cipher.encrypt(phone),
        "phone_masked": mask_phone(phone),
    }


def shown_identity(
    cipher: PersonalDataCipher, row: StoredIdentity, *, reveal: bool
) -> tuple[str, str, str]:
    """Name, ID number and phone as a view shows them. A masked view reads the masks stored at
    registration, so the web tier decrypts nothing for it (the public booking receipt is the
    busiest such view); revealing roles, and rows registered before masks were stored,
    decrypt."""
    if not reveal and row.name_masked is not None:
        return row.name_masked, row.id_masked or "", row.phone_masked or ""
    name = cipher.decrypt(row.name_enc)
    number = cipher.decrypt(row.id_enc)
    phone = cipher.decrypt(row.phone_enc)
    if reveal:
        return name, number, phone
    return mask_name(name), mask_id_number(number), mask_phone(phone)


def patient_view(ctx: BookingContext, patient: Patient, *, reveal: bool = False) -> PatientView:
    name, number, phone = shown_identity(ctx.cipher, patient, reveal=reveal)
    return PatientView(id=patient.id, name=name, id_number=number, phone=phone)


def not_registered() -> BookingNotFound:
    return BookingNotFound("该身份证号尚未登记为就诊人，请先登记", code="patient-not-registered")


def find_patient(
    session: Session, ctx: BookingContext, id_number: str, *, lock: bool = False
) -> Patient:
    number = idcard.validate(id_number)
    query = select(Patient).where(Patient.id_hash == ctx.cipher.lookup_hash(number))
    if lock:
        query = query.with_for_update()
    patient = session.execute(query).scalar_one_or_none()
    if patient is None:
        raise not_registered()
    return patient


def register_patient(
    session: Session,
    ctx: BookingContext,
    *,
    id_number: str,
    name: str,
    phone: str,
    actor: str,
    account_id: int | None = None,
    source_ip: str = "",
    link_existing: bool = True,
) -> Patient:
    """Register (or find) the patient with this ID number and link it to the account.
    ``link_existing=False``: only a new patient (an online registration confirmed by a code
    sent to the phone it gave; an existing patient is linked by a code to its own phone)."""
    number = idcard.validate(id_number)
    name = normalize_name(name)
    phone = normalize_phone(phone)
    id_hash = ctx.cipher.lookup_hash(number)
    phone_hash = ctx.cipher.lookup_hash(phone)
    # Serialize registrations per phone number so that the per-phone limit holds under races.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:h))"), {"h": "phone:" + phone_hash}
    )
    patient = session.execute(
        select(Patient).where(Patient.id_hash == id_hash).with_for_update()
    ).scalar_one_or_none()
    if patient is not None and not link_existing:
        raise BookingRefused(
            "patient-registered-meanwhile", "该身份证号刚刚已登记为就诊人，请重新获取验证码"
        )
    if patient is None:
        patient = _new_patient(session, ctx, number, name, phone, phone_hash, actor, source_ip)
    elif ctx.cipher.decrypt(patient.name_enc) != name:
        raise BookingRefused("name-mismatch", "姓名与该身份证号已登记的姓名不一致")
    if account_id is not None:
        session.execute(
            insert(AccountPatient)
            .values(account_id=account_id, patient_id=patient.id)
            .on_conflict_do_nothing()
        )
    return patient


def _new_patient(
    session: Session,
    ctx: BookingContext,
    number: str,
    name: str,
    phone: str,
    phone_hash: str,
    actor: str,
    source_ip: str,
) -> Patient:
    """A new patient row, within the per-phone limit (the caller holds the phone's lock)."""
    others = session.execute(
        select(func.count()).select_from(Patient).where(Patient.phone_hash == phone_hash)
    ).scalar_one()
    check_phone_patients(ctx.rules, others)
    patient = Patient(**identity_columns(ctx.cipher, number, name, phone), created_at=ctx.clock())
    session.add(patient)
    session.flush()
    session.add(
        AuditRecord(
            actor=actor,
            action="patient.register",
            target=f"patient:{patient.id}",
            source_ip=source_ip,
            details={},
            at=ctx.clock(),
        )
    )
    return patient


def account_manages(session: Session, account_id: int, patient_id: int) -> bool:
    row = session.get(AccountPatient, (account_id, patient_id))
    return row is not None


def patients_of_account(session: Session, account_id: int) -> list[Patient]:
    return list(
        session.execute(
            select(Patient)
            .join(AccountPatient, AccountPatient.patient_id == Patient.id)
            .where(AccountPatient.account_id == account_id)
            .order_by(Patient.id)
        ).scalars()
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_account(session: Session, ctx: BookingContext, phone: str) -> tuple[int, str]:
    """Create the account of a phone number, or issue it a new token (the old one stops
    working). Only once the phone's owner has typed the code sent to it
    (``online_accounts.OnlineAccounts.open_account``)."""
    phone = normalize_phone(phone)
    phone_hash = ctx.cipher.lookup_hash(phone)
    token = secrets.token_urlsafe(32)
    account = session.execute(
        select(Account).where(Account.phone_hash == phone_hash).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        account = Account(
            phone_hash=phone_hash,
            phone_enc=ctx.cipher.encrypt(phone),
            token_hash=token_hash(token),
            created_at=ctx.clock(),
        )
        session.add(account)
    else:
        account.token_hash = token_hash(token)
    session.flush()
    return account.id, token


def account_for_token(session: Session, token: str) -> int | None:
    return session.execute(
        select(Account.id).where(Account.token_hash == token_hash(token))
    ).scalar_one_or_none()
