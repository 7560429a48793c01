"""A hospital's first push as its integrator sends it: one morning session two days ahead,
signed with the hospital's key (the onboarding tests, API and browser)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from backend.booking.rules import BookingRules
from backend.signatures import signed_headers

PUSH = "/api/hospital/schedules"


def one_session(external_id: str, department: str = "NK", doctor: str = "D001") -> dict[str, Any]:
    day = datetime.now(BookingRules().tz).date() + timedelta(days=2)
    return {
        "external_id": external_id,
        "department_code": department,
        "department_name": "内科",
        "doctor_code": doctor,
        "doctor_name": "王晓梅",
        "doctor_title": "主任医师",
        "day": day.isoformat(),
        "session": "morning",
        "starts": "08:00",
        "ends": "11:30",
        "fee": "50.00",
        "slots": [{"seq": i + 1, "time": f"08:{10 * i:02d}", "channel": "any"} for i in range(4)],
    }


def signed_push(
    client: TestClient, key_id: str, secret: str, payload: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """POST ``payload`` to the schedule push, signed as a hospital signs it."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers("X-Hospital-Key", key_id, secret, "POST", PUSH, body, now=time.time())
    answer = client.post(PUSH, content=body, headers=headers | {"Content-Type": "application/json"})
    return answer.status_code, answer.json()
