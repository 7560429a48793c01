"""The booking service the desk, the IVR, the online API and the hospital API call.

Each method is one transaction. ``book`` and ``cancel`` accept an ``Idempotency-Key``: a retry
with the same key returns the first result (or the first refusal).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor
from backend.booking import (
    catalog,
    hospital_feed,
    notices,
    patients,
    reservations,
    schedule_push,
    sheet,
)
from backend.booking.context import BookingContext
from backend.booking.errors import BookingNotFound, invalid_token
from backend.booking.hospital_auth import signed_hospital
from backend.booking.hospital_feed import FeedItem, PushResult, SchedulePush
from backend.booking.idempotency import IdempotencyStore
from backend.booking.patients import NewPatient
from backend.booking.reservations import BookRequest, CancelRequest
from backend.booking.rules import Channel
from backend.booking.views import (
    AffectedBooking,
    AnnouncementView,
    BookingReceipt,
    ConfirmationSheet,
    DepartmentView,
    HospitalView,
    PatientView,
    ScheduleView,
    SlotView,
)
from backend.db import transaction
from backend.metrics.booking import observed_booking
from backend.models.booking import Booking, Hospital, Slot
from backend.nonces import NonceStore, claim_nonce
from backend.signatures import SignedRequest


class BookingService:
    def __init__(self, session_factory: sessionmaker[Session], ctx: BookingContext) -> None:
        self._factory = session_factory
        self.ctx = ctx
        self._idempotency = IdempotencyStore(session_factory, ctx.clock)

    # Catalogue -------------------------------------------------------------------------

    def search_hospitals(
        self, text: str = "", *, district: str = "", level: str = ""
    ) -> list[HospitalView]:
        with self._factory() as session:
            return catalog.search_hospitals(session, text=text, district=district, level=level)

    def list_departments(self, hospital_id: int, text: str = "") -> list[DepartmentView]:
        with self._factory() as session:
            return catalog.list_departments(session, hospital_id, text)

    def list_schedules(
        self,
        *,
        channel: Channel,
        hospital_id: int | None = None,
        department_id: int | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> list[ScheduleView]:
        with self._factory() as session:
            return catalog.list_schedules(
                session,
                self.ctx,
                channel=channel,
                hospital_id=hospital_id,
                department_id=department_id,
                day_from=day_from,
                day_to=day_to,
            )

    def list_slots(self, schedule_id: int, channel: Channel) -> list[SlotView]:
        with self._factory() as session:
            return catalog.list_slots(session, self.ctx, schedule_id, channel)

    def announcements(self, hospital_id: int | None = None) -> list[AnnouncementView]:
        """The announcements in force now (platform-wide, and the hospital's)."""
        with self._factory() as session:
            return notices.announcements_in_force(session, self.ctx.clock(), hospital_id)

    # Patients --------------------------------------------------------------------------

    def register_patient(
        self,
        *,
        id_number: str,
        name: str,
        phone: str,
        actor: str,
        account_id: int | None = None,
        source_ip: str = "",
        reveal: bool = False,
    ) -> PatientView:
        with transaction(self._factory) as session:
            patient = patients.register_patient(
                session,
                self.ctx,
                id_number=id_number,
                name=name,
                phone=phone,
                actor=actor,
                account_id=account_id,
                source_ip=source_ip,
            )
            return patients.patient_view(self.ctx, patient, reveal=reveal)

    def patients_of_account(self, account_id: int) -> list[PatientView]:
        with self._factory() as session:
            return [
                patients.patient_view(self.ctx, p)
                for p in patients.patients_of_account(session, account_id)
            ]

    def account_manages(self, account_id: int, patient_id: int) -> bool:
        with self._factory() as session:
            return patients.account_manages(session, account_id, patient_id)

    def account_for_token(self, token: str) -> int | None:
        with self._factory() as session:
            return patients.account_for_token(session, token)

    def signed_in_account(self, token: str) -> int:
        """The token's account; ``Unauthorized`` when the token is unknown or replaced."""
        account_id = self.account_for_token(token)
        if account_id is None:
            raise invalid_token()
        return account_id

    # Booking ---------------------------------------------------------------------------

    def book(self, request: BookRequest, idempotency_key: str | None = None) -> BookingReceipt:
        with observed_booking(request.channel.value):
            return self._once(
                f"book:{request.actor}",
                idempotency_key,
                request.fingerprint(),
                lambda session: reservations.book(session, self.ctx, request),
            )

    def register_and_book(
        self, patient: NewPatient, request: BookRequest, idempotency_key: str | None = None
    ) -> BookingReceipt:
        """The desk's booking for a caller: register (or find) the patient by real name and
        book, in one transaction, so a refusal or an outage leaves no patient half-made, and
        with the page's key at most once."""

        def operation(session: Session) -> BookingReceipt:
            patients.register_patient(
                session,
                self.ctx,
                id_number=patient.id_number,
                name=patient.name,
                phone=patient.phone,
                actor=request.actor,
                source_ip=request.source_ip,
            )
            return reservations.book(session, self.ctx, request)

        fingerprint = {**request.fingerprint(), "name": patient.name, "phone": patient.phone}
        with observed_booking(request.channel.value):
            return self._once(f"book:{request.actor}", idempotency_key, fingerprint, operation)

    def cancel(self, request: CancelRequest, idempotency_key: str | None = None) -> BookingReceipt:
        return self._once(
            f"cancel:{request.actor}",
            idempotency_key,
            request.fingerprint(),
            lambda session: reservations.cancel(session, self.ctx, request),
        )

    def book_for_account(
        self, token: str, request_for: Callable[[int], BookRequest], idempotency_key: str
    ) -> BookingReceipt:
        """The online channel's keyed booking (``request_for`` makes the request once the
        account is known). Unkeyed online bookings run on ``OnlineBooking``'s async pool."""
        return self.book(request_for(self.signed_in_account(token)), idempotency_key)

    def _once(
        self,
        scope: str,
        key: str | None,
        fingerprint: dict[str, object],
        operation: Callable[[Session], BookingReceipt],
    ) -> BookingReceipt:
        """Run in one transaction; with a key, at most once (see ``IdempotencyStore``)."""
        if key is None:
            with transaction(self._factory) as session:
                return operation(session)
        result = self._idempotency.run(
            scope, key, fingerprint, lambda session: operation(session).to_dict()
        )
        return BookingReceipt.from_dict(result)

    def find_booking(self, id_number: str, booking_code: str) -> BookingReceipt:
        """A booking by the caller's ID number and booking code (what the IVR reads out)."""
        with self._factory() as session:
            booking_id = reservations.find_booking_id(session, self.ctx, id_number, booking_code)
            return reservations.load_receipt(session, self.ctx, booking_id)

    def bookings_of_patient(self, id_number: str) -> list[BookingReceipt]:
        with self._factory() as session:
            patient = patients.find_patient(session, self.ctx, id_number)
            return self._receipts(
                session, select(Booking.id).where(Booking.patient_id == patient.id)
            )

    def bookings_of_account(self, account_id: int) -> list[BookingReceipt]:
        with self._factory() as session:
            # The account's own bookings, not every booking of the patients it manages.
            return self._receipts(
                session, select(Booking.id).where(Booking.account_id == account_id)
            )

    def _receipts(self, session: Session, ids_query: Select[int]) -> list[BookingReceipt]:
        query = ids_query.order_by(Booking.id.desc()).limit(200)
        return [
            reservations.load_receipt(session, self.ctx, booking_id)
            for booking_id in session.execute(query).scalars()
        ]

    def booking_receipt(self, booking_code: str, *, reveal: bool = False) -> BookingReceipt:
        with self._factory() as session:
            booking_id = session.execute(
                select(Booking.id).where(Booking.code == booking_code)
            ).scalar_one_or_none()
            if booking_id is None:
                raise BookingNotFound("没有这个预约", code="no-such-booking")
            return reservations.load_receipt(session, self.ctx, booking_id, reveal=reveal)

    # Hospitals (the integration API) -----------------------------------------------------

    def signed_hospital(
        self, request: SignedRequest, *, now: float, nonces: NonceStore, source_ip: str = ""
    ) -> Hospital:
        """The hospital that signed ``request``; ``SignatureRejected`` saying why not, or
        ``RequestReplayed`` (audited) when its nonce was used already."""
        with self._factory() as session:
            hospital = signed_hospital(session, self.ctx, request, now=now)
        claim_nonce(
            nonces, self._factory, request,
            kind="hospital", actor=Actor(f"hospital:{hospital.code}", source_ip),
            window_seconds=self.ctx.rules.signature_window_seconds,
        )  # fmt: skip
        return hospital

    def push_schedules(self, hospital: Hospital, items: list[SchedulePush]) -> PushResult:
        return schedule_push.push_in_transaction(self._factory, self.ctx, hospital.id, items)

    def stop_session(
        self, hospital: Hospital, external_id: str, reason: str, *, source_ip: str = ""
    ) -> list[AffectedBooking]:
        with transaction(self._factory) as session:
            return hospital_feed.stop_session(
                session, self.ctx, hospital, external_id, reason, source_ip=source_ip
            )

    def bookings_since(
        self, hospital: Hospital, cursor: int, limit: int, *, source_ip: str = ""
    ) -> tuple[list[FeedItem], int]:
        """The feed's next page, its pull audited."""
        with transaction(self._factory) as session:
            return hospital_feed.bookings_since(
                session, self.ctx, hospital, cursor, limit, source_ip=source_ip
            )

    def report_attendance(
        self, hospital: Hospital, booking_code: str, attended: bool, *, source_ip: str = ""
    ) -> BookingReceipt:
        with transaction(self._factory) as session:
            return hospital_feed.report_attendance(
                session, self.ctx, hospital, booking_code, attended, source_ip=source_ip
            )

    # Back office -----------------------------------------------------------------------

    def monthly_confirmation_sheet(self, year: int, month: int) -> ConfirmationSheet:
        with self._factory() as session:
            return sheet.confirmation_sheet(session, self.ctx.rules, year, month)

    def release_due_slots(self, now: datetime | None = None) -> int:
        """Put cancelled slots whose random re-release moment has come back on sale.

        Booking already treats such slots as free once ``release_at`` has passed; this clears
        the mark so listings and reports need not reason about it. Run it every minute."""
        moment = now or self.ctx.clock()
        with transaction(self._factory) as session:
            released = session.execute(
                update(Slot)
                .where(Slot.release_at.is_not(None), Slot.release_at <= moment)
                .values(release_at=None)
                .returning(Slot.id)
            ).all()
            return len(released)
