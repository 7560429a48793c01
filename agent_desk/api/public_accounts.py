"""Online accounts and their patients, each step proved by an SMS code
(``backend.booking.online_accounts``; for channel integrators: ``docs/online-accounts.md``).

1. ``POST /api/public/accounts/code`` ``{phone}``: a code is sent to the phone (202).
2. ``POST /api/public/accounts`` ``{phone, code}``: the account's token (201).
3. ``POST /api/public/patients`` ``{id_number, name, phone}``: a code is sent to the
   patient's phone, the registered one if the patient is known (202, the same answer always).
4. ``POST /api/public/patients/confirm`` ``{id_number, code}``: the patient, now the
   account's (201).

Rate limited like every public route (``public_booking.rate_limit``), and codes besides per
phone and per address (429 ``sms-code-too-soon`` / ``sms-code-limit``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from agent_desk.api.booking_schemas import (
    AccountCreate,
    AccountToken,
    CodeAsked,
    CodeSent,
    PatientConfirm,
    PatientCreate,
    PatientPublic,
)
from agent_desk.api.public_booking import ERRORS, AccountId, rate_limit
from agent_desk.deps import ClientIp, StateDep
from backend.booking.online_accounts import OnlineAccounts


def online_accounts(state: StateDep) -> OnlineAccounts:
    return state.online_accounts


Accounts = Annotated[OnlineAccounts, Depends(online_accounts)]

router = APIRouter(
    prefix="/api/public",
    tags=["public booking"],
    dependencies=[Depends(rate_limit)],
    responses=ERRORS,
)


@router.post("/accounts/code", status_code=202, summary="发送登录验证码到手机")
def send_account_code(body: CodeAsked, accounts: Accounts, address: ClientIp) -> CodeSent:
    return CodeSent(expires_in=accounts.send_account_code(body.phone, address))


@router.post("/accounts", status_code=201, summary="凭短信验证码开通或登录账户，返回账户令牌")
def open_account(body: AccountCreate, accounts: Accounts, address: ClientIp) -> AccountToken:
    account_id, token = accounts.open_account(body.phone, body.code, address)
    return AccountToken(account_id=account_id, token=token)


@router.post(
    "/patients",
    status_code=202,
    summary="添加就诊人：验证码发往就诊人的手机（已登记的就诊人发往其登记的手机）",
)
def request_patient(
    body: PatientCreate, accounts: Accounts, account_id: AccountId, address: ClientIp
) -> CodeSent:
    expires_in = accounts.request_patient(
        account_id, id_number=body.id_number, name=body.name, phone=body.phone, address=address
    )
    return CodeSent(expires_in=expires_in)


@router.post("/patients/confirm", status_code=201, summary="凭验证码确认添加就诊人")
def confirm_patient(
    body: PatientConfirm, accounts: Accounts, account_id: AccountId, address: ClientIp
) -> PatientPublic:
    patient = accounts.confirm_patient(
        account_id, id_number=body.id_number, code=body.code, address=address
    )
    return PatientPublic.model_validate(patient)
