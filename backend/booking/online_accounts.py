"""Online accounts and the patients they manage, each step proved by an SMS code.

- An account is opened (or signed in again) only with the code sent to its phone.
- A patient is added to an account only with a code: for a new patient, sent to the phone it
  gives; for a registered one, sent to the phone it was registered with, so that knowing
  someone's ID number and name is not enough to book or cancel in their name.
- Asking to add a patient always gets the same answer, whether the ID number is unknown, is
  registered under another name (nothing is sent then) or matches: the answer tells no one
  whether an ID number is registered.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.audit import Actor, record_audit
from backend.booking import patients
from backend.booking.context import BookingContext
from backend.booking.one_time_codes import CodeRefused, CodeRequest, CodesLimited, OneTimeCodes
from backend.booking.views import PatientView
from backend.db import transaction
from backend.models.booking import AccountPatient, Patient
from backend.personal_data import mask_id_number, mask_phone


def account_text(minutes: int, code: str) -> str:
    return f"【114预约挂号】您的登录验证码为 {code} ，{minutes}分钟内有效。如非本人操作请忽略。"


def patient_text(minutes: int, code: str) -> str:
    return (
        f"【114预约挂号】验证码 {code} （{minutes}分钟内有效）：有人申请将您添加为其账户的"
        "就诊人，如非您本人或家人操作，请勿将验证码告诉他人。"
    )


class OnlineAccounts:
    def __init__(
        self, session_factory: sessionmaker[Session], ctx: BookingContext, codes: OneTimeCodes
    ) -> None:
        self._factory = session_factory
        self.ctx = ctx
        self._codes = codes

    # Accounts ----------------------------------------------------------------------------

    def send_account_code(self, phone: str, address: str) -> int:
        """Send a sign-in code to ``phone``; the seconds it is valid."""
        phone = patients.normalize_phone(phone)
        phone_hash = self.ctx.cipher.lookup_hash(phone)
        text = partial(account_text, self._minutes)
        request = CodeRequest("account", phone_hash, phone, phone_hash, address, text)
        return self._issue(request, Actor("public", address), f"phone:{mask_phone(phone)}")

    def open_account(self, phone: str, code: str, address: str) -> tuple[int, str]:
        """The account of ``phone`` and a new token, once ``code`` is the one sent to it."""
        phone = patients.normalize_phone(phone)
        phone_hash = self.ctx.cipher.lookup_hash(phone)
        actor = Actor("public", address)
        self._redeem("account", phone_hash, code, actor, f"phone:{mask_phone(phone)}")
        with transaction(self._factory) as session:
            account_id, token = patients.open_account(session, self.ctx, phone)
            record_audit(session, actor, "account.signed_in", f"account:{account_id}", self._now())
        return account_id, token

    # Patients ----------------------------------------------------------------------------

    def request_patient(
        self, account_id: int, *, id_number: str, name: str, phone: str, address: str
    ) -> int:
        """Send the code that adds a patient to the account; the seconds it is valid."""
        number = idcard.validate(id_number)
        name = patients.normalize_name(name)
        phone = patients.normalize_phone(phone)
        cipher = self.ctx.cipher
        destination: str | None = phone
        with self._factory() as session:
            patient = session.execute(
                select(Patient).where(Patient.id_hash == cipher.lookup_hash(number))
            ).scalar_one_or_none()
            if patient is None:
                pending = json.dumps({"id_number": number, "name": name, "phone": phone})
                payload = json.dumps({"new": cipher.encrypt(pending)})
            elif cipher.decrypt(patient.name_enc) == name:
                destination = cipher.decrypt(patient.phone_enc)
                payload = json.dumps({"patient_id": patient.id})
            else:
                # Sent nowhere, answered alike: the code stored cannot be known by anyone.
                destination, payload = None, ""
        actor = Actor(f"account:{account_id}", address)
        if destination is None:
            self._audit(
                actor, "patient.name_mismatch", f"account:{account_id}",
                {"id_number": mask_id_number(number)},
            )  # fmt: skip
        request = CodeRequest(
            purpose="patient",
            subject=self._link_subject(account_id, number),
            phone=destination,
            phone_hash=cipher.lookup_hash(destination or phone),
            address=address,
            text=partial(patient_text, self._minutes),
            payload=payload,
        )
        return self._issue(request, actor, f"account:{account_id}")

    def confirm_patient(
        self, account_id: int, *, id_number: str, code: str, address: str
    ) -> PatientView:
        """Add the patient the code was sent for to the account (registering a new one)."""
        number = idcard.validate(id_number)
        actor = Actor(f"account:{account_id}", address)
        subject = self._link_subject(account_id, number)
        pending = json.loads(self._redeem("patient", subject, code, actor, f"account:{account_id}"))
        with transaction(self._factory) as session:
            if "patient_id" in pending:
                patient = self._link(session, account_id, int(pending["patient_id"]))
            else:
                given = json.loads(self.ctx.cipher.decrypt(pending["new"]))
                patient = patients.register_patient(
                    session, self.ctx, **given, actor=actor.username,
                    account_id=account_id, source_ip=address, link_existing=False,
                )  # fmt: skip
            record_audit(
                session, actor, "patient.linked", f"patient:{patient.id}", self._now(),
                {"account": account_id},
            )  # fmt: skip
            return patients.patient_view(self.ctx, patient)

    def _link(self, session: Session, account_id: int, patient_id: int) -> Patient:
        session.execute(
            insert(AccountPatient)
            .values(account_id=account_id, patient_id=patient_id)
            .on_conflict_do_nothing()
        )
        return session.get_one(Patient, patient_id)

    @property
    def _minutes(self) -> int:
        return math.ceil(self.ctx.rules.code_ttl_seconds / 60)

    def _link_subject(self, account_id: int, number: str) -> str:
        return self.ctx.cipher.lookup_hash(f"link:{account_id}:{number}")

    # Codes, with their refusals audited ---------------------------------------------------

    def _issue(self, request: CodeRequest, actor: Actor, target: str) -> int:
        try:
            return self._codes.issue(request)
        except CodesLimited as exc:
            self._audit(actor, f"{request.purpose}.code_refused", target, {"error": exc.code})
            raise

    def _redeem(self, purpose: str, subject: str, code: str, actor: Actor, target: str) -> str:
        try:
            return self._codes.redeem(purpose, subject, code)
        except (CodeRefused, CodesLimited) as exc:
            self._audit(actor, f"{purpose}.code_refused", target, {"error": exc.code})
            raise

    def _audit(self, actor: Actor, action: str, target: str, details: dict[str, object]) -> None:
        with transaction(self._factory) as session:
            record_audit(session, actor, action, target, self._now(), details)

    def _now(self) -> datetime:
        return self.ctx.clock()
