"""The flow engine: walks a flow's nodes for one call over an abstract channel.

Pure call logic: everything outside (AGI, ACD, database, TTS, ASR) comes in through
``FlowPorts`` (ivr/flows/ports.py). Every node visited becomes a ``StepRecord``; the journal gets the path when
the caller leaves the IVR (queue, hang-up, message or self-service) and again after the queue
(survey).

A call's state, record and speech are in ivr/flows/call_run.py; the node kinds that ask the
caller for input in ivr/flows/input_nodes.py, those that hand the caller to a service in
ivr/flows/service_nodes.py; the plain ones (play, branches, hang-up) are here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backend.errors import CallCenterError
from backend.flows.schema import (
    CallerBranchNode,
    ElderlyModeNode,
    Flow,
    HangupNode,
    Node,
    PlayNode,
    TimeBranchNode,
)
from backend.localtime import DEFAULT_TIMEZONE, zone
from ivr.agi.errors import CallHungUp
from ivr.flows.call_run import CallerGone, Step
from ivr.flows.input_nodes import CallerInputNodes
from ivr.flows.ports import CallerProfile, CallInfo, Channel, FlowPorts, IvrExit, IvrSummary
from ivr.flows.service_nodes import ServiceNodes

MAX_STEPS = 200


class MissingPort(CallCenterError):
    """The composition root gave a flow no adapter for a node kind it uses."""

    code = "flow-port-missing"


class FlowLoopError(Exception):
    """A flow visited more nodes than any real call would: a loop in the YAML."""


class FlowEngine:
    """Runs one flow; one engine serves every call of its line (it keeps no per-call state)."""

    def __init__(self, flow: Flow, ports: FlowPorts, *, timezone: str = DEFAULT_TIMEZONE) -> None:
        """``timezone``: the centre's (settings.timezone), unless the flow names its own."""
        kinds = {node.kind for node in flow.nodes.values()}
        needs = {
            "message": ("messages", ports.messages),
            "booking_lookup": ("bookings", ports.bookings),
            "booking_cancel": ("bookings", ports.bookings),
            "booking_sms": ("bookings", ports.bookings),
        }
        for kind, (port, value) in needs.items():
            if kind in kinds and value is None:
                raise MissingPort(
                    f"flow {flow.name} uses '{kind}' nodes but was given no {port} port"
                )
        self.flow = flow
        self.ports = ports
        self.tz = zone(flow.timezone or timezone)

    async def run(self, channel: Channel, call: CallInfo) -> IvrSummary:
        return await _CallRun(self.flow, self.ports, self.tz, channel, call).run()


class _CallRun(CallerInputNodes, ServiceNodes):
    # -- the walk ---------------------------------------------------------------------------

    async def run(self) -> IvrSummary:
        await self._journal(self.ports.journal.call_started(self.call))
        exit_: IvrExit
        try:
            await self._walk()
            await self.channel.hangup()
            exit_ = IvrExit.MESSAGE if self.message_left else IvrExit.SELF_SERVICE
        except (CallHungUp, CallerGone):
            if self.message_left:
                exit_ = IvrExit.MESSAGE
            elif self.served:
                exit_ = IvrExit.SELF_SERVICE
            else:
                exit_ = IvrExit.ABANDONED
        except Exception:
            if self.left_ivr is None:
                await self._leave(IvrExit.ERROR)
            raise
        finally:
            if self.left_ivr is not None and (self.after_steps or self.survey):
                await self._journal(
                    self.ports.journal.after_queue(self.call, self.after_steps, self.survey)
                )
        if self.left_ivr is None:
            await self._leave(exit_)
        assert self.left_ivr is not None
        return self.left_ivr

    async def _walk(self) -> None:
        # The line's emergency message, if one is running, comes before the flow.
        notice = await self._emergency("line", self.call.line)
        name: str | None = await self._after_emergency(notice, self.flow.start)
        for _ in range(MAX_STEPS):
            if name is None:
                return
            node = self.flow.nodes[name]
            at = self.ports.clock.now()
            began = self.ports.clock.monotonic()
            try:
                step = await self._visit(name, node)
            except (CallHungUp, CallerGone):
                self._record(name, node, at, began, Step(None, outcome="caller_hangup"))
                raise
            except Exception as exc:
                failed = Step(None, outcome=f"error:{type(exc).__name__}")
                self._record(name, node, at, began, failed)
                raise
            self._record(name, node, at, began, step)
            name = step.next
        raise FlowLoopError(f"flow {self.flow.name} visited {MAX_STEPS} nodes in one call")

    async def _visit(self, name: str, node: Node) -> Step:
        handler: Callable[[str, Any], Awaitable[Step]] = getattr(self, "_" + node.kind)
        return await handler(name, node)

    # -- the plain node kinds ---------------------------------------------------------------

    async def _play(self, name: str, node: PlayNode) -> Step:
        stopped_at = await self._say(node.prompt, barge_in=node.barge_in)
        if node.serves:
            self.served = True
        if stopped_at is not None:
            # Where the caller's key cut the prompt: the audio he heard before going on.
            return Step(node.next, outcome="interrupted", details={"heard_seconds": stopped_at})
        return Step(node.next, outcome="played")

    async def _time_branch(self, name: str, node: TimeBranchNode) -> Step:
        local = self.ports.clock.now().astimezone(self.tz)
        opening = node.opening(local, self.ports.calendar)
        details: dict[str, Any] = {"local_time": local.isoformat(timespec="minutes")}
        if opening.calendar_missing is not None:
            details["calendar_missing"] = opening.calendar_missing
        if opening.open:
            return Step(node.open, outcome="open", details=details)
        return Step(node.closed, outcome="closed", details=details)

    async def _caller_branch(self, name: str, node: CallerBranchNode) -> Step:
        directory = self.ports.callers
        if directory is None or not self.call.caller_number:
            profile = CallerProfile()
        else:
            profile = await directory.profile(self.call)
        self.state.repeat_caller = profile.repeat_caller
        if profile.elderly:
            self.state.elderly = True
        if profile.blacklisted:
            return Step(node.blacklisted, outcome="blacklisted")
        if profile.elderly and node.elderly is not None:
            return Step(node.elderly, outcome="elderly")
        if profile.repeat_caller and node.repeat is not None:
            return Step(node.repeat, outcome="repeat_caller")
        return Step(node.otherwise, outcome="elderly" if profile.elderly else "ordinary")

    async def _elderly_mode(self, name: str, node: ElderlyModeNode) -> Step:
        self.state.elderly = True
        await self._say(node.prompt)
        return Step(node.next, outcome="elderly_mode")

    async def _hangup(self, name: str, node: HangupNode) -> Step:
        await self._say(node.prompt)
        return Step(None, outcome="hangup")
