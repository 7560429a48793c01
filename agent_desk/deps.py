"""Dependencies as ``Annotated`` aliases, so routes read like prose::

    def wallboard(state: StateDep, user: WallboardUser) -> Wallboard: ...

Everything comes from the one ``AppState`` on ``app.state.app`` (built once in
``create_app``): no globals, nothing rebuilt per request. A route states the permission it
needs with one of the ``...User`` aliases (``require`` checks it, audits a refusal and
answers 403), never a role. Dependencies that do no I/O are ``async def``: FastAPI runs a
plain ``def`` dependency in the thread pool, a hop that costs more than the work itself on
busy routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from agent_desk.auth.guard import Caller, current_caller, require
from agent_desk.auth.permissions import Permission
from agent_desk.state import AppState, state_of
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings


async def get_state(request: Request) -> AppState:
    return state_of(request)


async def get_settings(request: Request) -> Settings:
    return state_of(request).settings


async def get_cipher(request: Request) -> PersonalDataCipher:
    return state_of(request).cipher


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; the route commits what it means to keep."""
    with state_of(request).session_factory() as session:
        yield session


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientIp = Annotated[str, Depends(client_ip)]

# The logged-in person (any role), and the same with a permission checked.
CurrentUser = Annotated[Caller, Depends(current_caller)]
P = Permission
DeskUser = Annotated[Caller, Depends(require(P.DESK))]
CallControlUser = Annotated[Caller, Depends(require(P.CALL_CONTROL))]
BookingDeskUser = Annotated[Caller, Depends(require(P.BOOKING_DESK))]
# Work orders: ``agent_desk.workorder_access`` (the permission and the user's team scope).
KnowledgeReader = Annotated[Caller, Depends(require(P.KNOWLEDGE))]
KnowledgeEditor = Annotated[Caller, Depends(require(P.KNOWLEDGE_EDIT))]
WallboardUser = Annotated[Caller, Depends(require(P.WALLBOARD))]
EmergencyUser = Annotated[Caller, Depends(require(P.EMERGENCY))]
ForceStateUser = Annotated[Caller, Depends(require(P.FORCE_STATE))]
ListenUser = Annotated[Caller, Depends(require(P.LISTEN))]
RecordingsUser = Annotated[Caller, Depends(require(P.RECORDINGS))]
AuditUser = Annotated[Caller, Depends(require(P.AUDIT_LOG))]
ReportsUser = Annotated[Caller, Depends(require(P.REPORTS))]
AdminUser = Annotated[Caller, Depends(require(P.ADMIN))]
HospitalUser = Annotated[Caller, Depends(require(P.HOSPITAL))]
