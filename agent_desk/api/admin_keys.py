"""The partners' API keys on the admin page: issue a hospital's or the city 12345 platform's
first key, or rotate it (the old one stops at once). The same services as ``callcenter
hospital key …`` and ``callcenter city-platform key …``; the secret is in this one answer
only (no cache keeps it), the change audited under the administrator's name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from agent_desk.api.admin_agents import NO_STORE
from agent_desk.auth.guard import Caller
from agent_desk.deps import AdminUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.state import AppState
from backend.api_keys import ApiKey
from backend.audit import Actor
from backend.booking.hospital_keys import hospital_key
from backend.db import transaction
from backend.personal_data import PersonalDataCipher
from backend.workorders.platform_clients import platform_key

Owner = Annotated[str, Path(min_length=1, max_length=64)]

router = APIRouter(
    prefix="/api/admin",
    tags=["系统管理"],
    responses=error_responses(401, 403, 404, 409, 422),
)


class KeyChange(BaseModel):
    action: Literal["issue", "rotate"]


class KeyOut(BaseModel):
    key_id: str
    secret: str  # shown this once


class KeyService(Protocol):
    """``hospital_key`` or ``platform_key``: issue or rotate the key of one owner."""

    def __call__(
        self, db: Session, cipher: PersonalDataCipher, owner: str, actor: Actor, now: datetime,
        /, *, rotate: bool,
    ) -> ApiKey: ...  # fmt: skip


def _changed(
    service: KeyService, owner: str, body: KeyChange, state: AppState, user: Caller,
    response: Response,
) -> KeyOut:  # fmt: skip
    with transaction(state.session_factory) as db:
        key = service(db, state.cipher, owner, user.actor, datetime.now(UTC),
                      rotate=body.action == "rotate")  # fmt: skip
    response.headers["Cache-Control"] = NO_STORE
    return KeyOut(key_id=key.key_id, secret=key.secret)


@router.post("/hospitals/{code}/key", summary="签发或轮换医院接口密钥（密钥只显示这一次）")
def change_hospital_key(
    code: Owner, body: KeyChange, state: StateDep, user: AdminUser, response: Response
) -> KeyOut:
    return _changed(hospital_key, code, body, state, user, response)


@router.post("/city-platform/{client}/key", summary="签发或轮换12345平台接口密钥")
def change_platform_key(
    client: Owner, body: KeyChange, state: StateDep, user: AdminUser, response: Response
) -> KeyOut:
    return _changed(platform_key, client, body, state, user, response)
