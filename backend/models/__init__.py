"""All model modules, imported here so that ``Base.metadata`` knows every table.

Alembic's env and the tests import this package; add each new model module below.
"""

from backend.models import (
    agents,
    audit,
    booking,
    calendar,
    callers,
    calls,
    emergency,
    knowledge,
    reporting,
    sms,
    telephony,
    training,
    users,
    workforce,
    workorders,
)
from backend.models.base import Base

__all__ = [
    "Base",
    "agents",
    "audit",
    "booking",
    "calendar",
    "callers",
    "calls",
    "emergency",
    "knowledge",
    "reporting",
    "sms",
    "telephony",
    "training",
    "users",
    "workforce",
    "workorders",
]
