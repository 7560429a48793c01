"""What the IVR reads out for a booking, the receipt's round trip through JSON, and the
public API's JSON of it."""

from __future__ import annotations

from agent_desk.api.booking_schemas import booking_public, booking_public_json
from backend.booking.views import BookingReceipt

RECEIPT = BookingReceipt(
    code="0012345678",
    status="booked",
    channel="ivr",
    hospital_name="北京协和医院",
    department_name="内科",
    doctor_name="张志远",
    doctor_title="主任医师",
    day="2026-12-03",
    session="morning",
    slot_seq=5,
    slot_time="08:20",
    fee="100.00",
    patient_name="张*",
    id_number="110105********0011",
    phone="139****1234",
    booked_at="2026-12-01T01:00:00+00:00",
    cancel_deadline="2026-12-02T15:00:00+08:00",
)


def test_the_ivr_sentence_names_hospital_doctor_date_session_and_status() -> None:
    assert RECEIPT.speech() == (
        "您预约的是北京协和医院内科，张志远主任医师，2026年12月3日上午08:20，第5号，预约状态：已预约。"
    )


def test_a_general_clinic_has_no_doctor_name() -> None:
    general = BookingReceipt.from_dict(
        RECEIPT.to_dict() | {"doctor_name": "", "status": "cancelled"}
    )
    assert "普通门诊" in general.speech() and "已取消" in general.speech()
    assert general.channel_label == "电话自助"


def test_the_receipt_survives_a_json_round_trip() -> None:
    assert BookingReceipt.from_dict(RECEIPT.to_dict() | {"unknown": 1}) == RECEIPT


def test_the_public_api_writes_a_receipt_as_its_model_would() -> None:
    written = booking_public_json(RECEIPT)
    assert written == booking_public(RECEIPT).model_dump_json().encode()
    assert "北京协和医院".encode() in written and b'"status_label":"' in written
