"""A booking's time and its refusals, by channel, for the booking service's entry points."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from backend.errors import CallCenterError
from backend.metrics.definitions import BOOKING_ERRORS, BOOKING_SECONDS


@contextmanager
def observed_booking(channel: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except CallCenterError as exc:
        BOOKING_ERRORS.labels(channel, exc.code).inc()
        raise
    except Exception:
        BOOKING_ERRORS.labels(channel, "internal").inc()
        raise
    finally:
        BOOKING_SECONDS.labels(channel).observe(time.perf_counter() - started)
