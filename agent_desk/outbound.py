"""Outbound calls the desk places for the signed-in agent: the dial box and 回访 of a work order.

Nothing rings before every check passed: the dial policy (a refused number gets its reason),
the agent signed in and holding no call, his phone registered, no other request of his still
ringing. Then his own phone rings, auto-answer asked for (he has just clicked), into the
``desk-outbound`` dialplan, which runs the controller's ``outbound`` AGI script with a one-time
token; the controller dials the number from there by the same route as a number dialled on
the phone itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agent_desk.state import AppState
from backend.acd.states import DIAL_OUT_FROM, AgentState, CannotDialOut
from backend.ami.client import AmiClient, AmiError
from backend.errors import Conflict, Refused, ServiceUnavailable
from backend.personal_data import mask_phone
from backend.telephony.dial_requests import DialRequest, DialRequests, Purpose

# The dialplan the agent's phone is rung into (asterisk_conf/extensions.conf): answered, it
# runs the controller's ``outbound`` AGI script with the request's token.
DIAL_CONTEXT = "desk-outbound"
AGENT_RING_SECONDS = 30
# A request not taken by then was not answered: the agent may dial again.
REQUEST_TTL_SECONDS = AGENT_RING_SECONDS + 10
# Asked of the agent's phone: answer at once (Call-Info for most phones and the softphone,
# Alert-Info for those that read that instead). Set only on PJSIP channels.
AUTO_ANSWER_HEADERS = {
    "PJSIP_HEADER(add,Call-Info)": "<sip:callcenter>;answer-after=0",
    "PJSIP_HEADER(add,Alert-Info)": "<http://callcenter>;info=alert-autoanswer",
}
PJSIP = "PJSIP/"
PURPOSE_LABELS = {Purpose.DIAL: "外呼", Purpose.REVISIT: "回访"}


class PhoneUnavailable(Conflict):
    code = "phone-unregistered"


@dataclass(frozen=True)
class DialingAgent:
    agent_id: int
    number: str
    interface: str


@dataclass(frozen=True)
class PlacedCall:
    line: str
    number: str  # masked
    purpose: Purpose


class DeskDialer:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._settings = state.settings

    def check_number(self, number: str) -> str:
        """The number in its national form, or DialRefused with the reason (nothing rings)."""
        return self._settings.dial_policy.check(number).national

    async def place(self, agent: DialingAgent, request: DialRequest) -> PlacedCall:
        request = replace(request, number=self.check_number(request.number))
        await self._check_agent_free(agent)
        ami = await self._state.ami_client()
        await self._check_phone(ami, agent)
        redis = self._state.async_redis()
        try:
            requests = DialRequests(
                redis, self._state.prefix, self._state.cipher, REQUEST_TTL_SECONDS
            )
            token = await requests.put(request)
            masked = mask_phone(request.number)
            caller_id = self._settings.caller_id.get(request.line, "")
            try:
                await ami.originate(
                    agent.interface,
                    context=DIAL_CONTEXT,
                    caller_id=f'"{PURPOSE_LABELS[request.purpose]} {masked}" <{caller_id}>',
                    timeout_ms=AGENT_RING_SECONDS * 1000,
                    variables={
                        "CC_DIAL_TOKEN": token,
                        **(AUTO_ANSWER_HEADERS if agent.interface.startswith(PJSIP) else {}),
                    },
                )
            except (AmiError, TimeoutError):
                await requests.forget(agent.agent_id, token)
                raise ServiceUnavailable("电话系统暂时无法连接，请稍后再试") from None
        finally:
            await redis.aclose()  # type: ignore[attr-defined]
        return PlacedCall(request.line, masked, request.purpose)

    async def _check_agent_free(self, agent: DialingAgent) -> None:
        async with self._state.acd() as acd:
            view = await acd.agent(agent.agent_id)
        state = view.status.state if view else AgentState.LOGGED_OUT
        if state not in DIAL_OUT_FROM:
            error = CannotDialOut(agent.agent_id, state)
            if state == AgentState.LOGGED_OUT:
                raise Refused(error.message, code=error.code)
            raise Conflict(error.message, code=error.code)

    async def _check_phone(self, ami: AmiClient, agent: DialingAgent) -> None:
        """A registered phone: its contacts, as Dial would use them. (DEVICE_STATE stays
        "UNAVAILABLE" for endpoints read through realtime, so it cannot tell.) Calls the ACD
        knows of were refused already; a simulated Local phone always answers."""
        if not agent.interface.startswith(PJSIP):
            return
        endpoint = agent.interface.removeprefix(PJSIP)
        try:
            reply = await ami.action("Getvar", Variable=f"PJSIP_DIAL_CONTACTS({endpoint})")
        except (AmiError, TimeoutError):
            raise ServiceUnavailable("电话系统暂时无法连接，请稍后再试") from None
        if not reply.get("Value", ""):
            raise PhoneUnavailable("您的话机未注册，无法外呼：请确认软电话已连接或桌面话机已登录")
