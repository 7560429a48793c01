"""The login API: password, second factor, password change, logout, who am I."""

from __future__ import annotations

import contextlib

import pyotp
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from agent_desk.auth.guard import COOKIE
from agent_desk.auth.permissions import HOME_PAGE, ROLE_LABELS, ROLE_PERMISSIONS
from agent_desk.auth.sessions import DeskSession, Stage
from agent_desk.deps import ClientIp, CurrentUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.phone_choice import choose_phone
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.phones import NoPhone
from backend.telephony.profiles import PhoneKind


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # An agent's phone for this shift: the browser softphone or a desk SIP phone. Ignored for
    # accounts without a provisioned phone.
    phone: PhoneKind | None = None


class TotpBody(BaseModel):
    code: str = Field(min_length=6, max_length=8, pattern=r"^\s*\d{6,8}\s*$")


class PasswordBody(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class LoginState(BaseModel):
    username: str
    display_name: str
    role: str
    role_label: str
    stage: str
    next: str  # the page to open now
    permissions: list[str]
    agent_id: int | None = None
    totp_uri: str = ""  # only while enrolling a second factor


def _state(session: DeskSession, cipher: PersonalDataCipher) -> LoginState:
    next_page = {
        Stage.TOTP: "/login/totp",
        Stage.CHANGE_PASSWORD: "/password",
    }.get(session.stage, HOME_PAGE[session.role])
    uri = ""
    if session.pending_totp_secret:
        uri = pyotp.TOTP(cipher.decrypt(session.pending_totp_secret)).provisioning_uri(
            name=session.username, issuer_name="114呼叫中心"
        )
    return LoginState(
        username=session.username,
        display_name=session.display_name,
        role=session.role.value,
        role_label=ROLE_LABELS[session.role],
        stage=session.stage.value,
        next=next_page,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[session.role]),
        agent_id=session.agent_id,
        totp_uri=uri,
    )


router = APIRouter(prefix="/api/auth", tags=["auth"], responses=error_responses(401, 403, 422))


def set_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
        path="/",
    )


@router.post("/login", summary="用户名密码登录")
def login(body: LoginBody, state: StateDep, ip: ClientIp, response: Response) -> LoginState:
    token, session = state.auth.login(body.username, body.password, ip)
    if body.phone is not None and session.agent_id is not None:
        with contextlib.suppress(NoPhone):
            choose_phone(state, session.agent_id, body.phone, session.username, ip)
    set_cookie(response, state.settings, token)
    return _state(session, state.cipher)


@router.post("/totp", summary="管理员动态口令（TOTP）")
def totp(body: TotpBody, state: StateDep, user: CurrentUser, response: Response) -> LoginState:
    token, session = state.auth.verify_totp(user.token, user.session, body.code, user.ip)
    set_cookie(response, state.settings, token)
    return _state(session, state.cipher)


class EnrolmentBody(BaseModel):
    link: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@router.post("/totp/enrolment", summary="用管理员签发的链接绑定动态口令")
def totp_enrolment(body: EnrolmentBody, state: StateDep, user: CurrentUser) -> LoginState:
    session = state.auth.start_enrolment(user.token, user.session, body.link, user.ip)
    return _state(session, state.cipher)


@router.post("/password", summary="修改密码（初始密码须先修改）")
def change_password(
    body: PasswordBody, state: StateDep, user: CurrentUser, response: Response
) -> LoginState:
    token, session = state.auth.change_password(
        user.token, user.session, body.old_password, body.new_password, user.ip
    )
    set_cookie(response, state.settings, token)
    return _state(session, state.cipher)


@router.post("/logout", status_code=204, summary="退出登录")
def logout(state: StateDep, user: CurrentUser) -> Response:
    state.auth.logout(user.token, user.session, user.ip)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", summary="当前登录用户")
def me(state: StateDep, user: CurrentUser) -> LoginState:
    return _state(user.session, state.cipher)
