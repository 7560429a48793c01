"""Adapter: the booking service as the engine's ``BookingLookup`` port (IVR self-service).

Not imported by the engine; the controller's composition root builds it from the same
``BookingService`` the desk and the online channel use, so the IVR books and cancels against
the one slot database.
"""

from __future__ import annotations

import asyncio

from backend.booking.errors import BookingNotFound, BookingRefused
from backend.booking.reservations import CancelRequest
from backend.booking.rules import Channel as BookingChannel
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.errors import Refused
from backend.notifications.requests import SmsRequests, SmsResendLimited
from ivr.flows.ports import BookingSummary, CallInfo, CancelResult, ResendResult

BOOKED = "booked"


def _summary(receipt: BookingReceipt) -> BookingSummary:
    return BookingSummary(
        receipt.code,
        receipt.speech(),
        cancellable=receipt.status == BOOKED,
        hospital=receipt.hospital_code,
    )


class ServiceBookingLookup:
    """Implements ``ivr.flows.ports.BookingLookup``; the service's SQL runs in a worker thread."""

    def __init__(self, service: BookingService, sms: SmsRequests | None = None) -> None:
        self._service = service
        self._sms = sms  # None: no resends on this line (the menu's key says it cannot)

    async def find_booking(
        self, call: CallInfo, id_number: str, code: str
    ) -> BookingSummary | None:
        try:
            receipt = await asyncio.to_thread(self._service.find_booking, id_number, code)
        except BookingNotFound:
            return None
        return _summary(receipt)

    async def cancel_booking(self, call: CallInfo, id_number: str, code: str) -> CancelResult:
        request = CancelRequest(
            booking_code=code,
            channel=BookingChannel.IVR,
            actor=f"ivr:{call.line}",
            id_number=id_number,
        )
        # One cancel per call and booking: a retried AGI command cannot cancel twice.
        key = f"ivr-cancel:{call.call_id}:{code}"
        try:
            await asyncio.to_thread(self._service.cancel, request, key)
        except (BookingRefused, BookingNotFound) as exc:
            return CancelResult(False, exc.message)
        return CancelResult(True)

    async def resend_sms(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        if self._sms is None:
            return ResendResult(False)
        try:
            await asyncio.to_thread(self._sms.resend_booking, id_number, code)
        except (BookingNotFound, Refused, SmsResendLimited) as exc:
            return ResendResult(False, exc.message)
        return ResendResult(True)

    async def opt_out_reminders(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        if self._sms is None:
            return ResendResult(False)
        try:
            await asyncio.to_thread(
                self._sms.opt_out_of_booking, id_number, code, f"ivr:{call.line}"
            )
        except BookingNotFound as exc:
            return ResendResult(False, exc.message)
        return ResendResult(True)
