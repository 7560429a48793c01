"""An AMI connection (the controller's, a desk worker's): login, reconnect and re-sync,
events, actions.

panoramisk does the framing; ``connection.py`` keeps the connection up (reconnecting with a
back-off, forever, until closed); this wrapper adds awaiting the login, re-sync callbacks
after every (re)login, and typed helpers for the actions the platform uses.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panoramisk import Manager

from backend.ami.connection import AmiManager, ConnectionKeeper
from backend.ami.users import AmiUser, login
from backend.errors import CallCenterError
from backend.settings import Settings
from backend.supervision import Backoff, TaskHealth

log = logging.getLogger("backend.ami")

EventCallback = Callable[[dict[str, str]], Awaitable[None] | None]
ResyncCallback = Callable[[], Awaitable[None]]


class AmiError(CallCenterError):
    code = "ami-error"


def _log_originate_failure(future: asyncio.Future[Any]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    replies = future.result()
    for reply in replies if isinstance(replies, list) else [replies]:
        if reply.get("Response") in ("Error", "Failure"):
            log.warning("originate %s failed: %s", reply.get("ActionID"), dict(reply))


# The event classes the platform listens to. Asterisk's "dialplan" class (Newexten, VarSet
# for every priority and variable) and "dtmf" would flood the event loop that also serves
# every call's AGI conversation, so they are not asked for.
DEFAULT_EVENTS = "system,call,user,agent"


class AmiClient:
    def __init__(
        self,
        settings: Settings,
        user: AmiUser,
        *,
        events: str = DEFAULT_EVENTS,
        only_events: Sequence[str] = (),
        health: TaskHealth | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        """``user``: whose rights the connection has (backend/ami/users.py).
        ``only_events``: when given, just these events are handed on, and Asterisk is asked to
        send no other: a user with a manager.conf eventfilter already gets only its own; any
        other is asked by AMI ``Filter`` after every login, so that none of the others is
        parsed on this event loop.
        ``health``: where the connection's state is kept (a supervisor's entry, so that it is
        in the process's health file); one of its own otherwise."""
        self._only_events = tuple(only_events)
        self._ask_filter = bool(only_events) and not user.rights.events
        account = login(settings, user)
        self._logged_in = asyncio.Event()
        self._resync: list[ResyncCallback] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.logins = 0
        self._manager = AmiManager(
            self._refused,
            host=settings.ami_host,
            port=settings.ami_port,
            username=account.username,
            secret=account.secret,
            events=events,
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
            log=log,
        )
        self.health = health if health is not None else TaskHealth()
        self._keeper = ConnectionKeeper(
            self._manager, self._logged_in, self.health, backoff or Backoff()
        )

    # Connection ------------------------------------------------------------------------

    def start(self) -> None:
        """Keep a connection up from now on (in the background, reconnecting with a back-off
        after every loss) without waiting for it: a controller serves calls while Asterisk is
        still starting or restarting."""
        self._manager.loop = asyncio.get_running_loop()
        self._keeper.start()

    async def connect(self, timeout: float = 10.0) -> None:
        """``start``, then wait for the login; AmiError (and closed) when none came in time."""
        self.start()
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
        except TimeoutError:
            why = self.health.last_error or "no answer"
            self.close()
            raise AmiError(
                f"could not log in to AMI as {self._manager.config['username']} ({why}; check "
                "CC_AMI_HOST, CC_AMI_PORT and that user's secret and permit)"
            ) from None

    def close(self) -> None:
        self._keeper.stop()
        self._logged_in.clear()

    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._logged_in.wait(), timeout)

    def on_resync(self, callback: ResyncCallback) -> None:
        """Called after every login, the first and each reconnect (e.g. reload channels)."""
        self._resync.append(callback)

    def _on_login(self, manager: Manager) -> None:
        self.logins += 1
        log.info("AMI logged in (login #%d)", self.logins)
        if self._ask_filter:
            self._start(self._filter_then_ready())
        else:
            self._logged_in.set()
        for callback in self._resync:
            self._start(callback())

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _filter_then_ready(self) -> None:
        for name in self._only_events:
            await self._manager.send_action(
                {"Action": "Filter", "Operation": "Add", "Filter": f"Event: {name}"}
            )
        self._logged_in.set()

    def _on_disconnect(self, manager: Manager, exc: Exception | None) -> None:
        self._keeper.lost()

    def _refused(self, why: str) -> None:
        self._keeper.refused(why)

    # Events ----------------------------------------------------------------------------

    def subscribe(self, pattern: str, callback: EventCallback) -> None:
        """Call ``callback(event)`` for every event whose name matches ``pattern`` (fnmatch)."""

        only = self._only_events

        def relay(manager: Manager, message: Any) -> Awaitable[None] | None:
            # Events that reach us between login and the Filter taking hold are dropped
            # here too, so that a narrowed client never sees another event.
            if only and message.get("Event") not in only:
                return None
            return callback(dict(message))

        self._manager.register_event(pattern, relay)

    # Actions ---------------------------------------------------------------------------

    async def action(self, name: str, timeout: float = 10.0, **fields: str) -> dict[str, str]:
        if not self.connected:
            await self.wait_connected(timeout)
        reply = await asyncio.wait_for(
            self._manager.send_action({"Action": name, **fields}), timeout
        )
        message = reply[0] if isinstance(reply, list) else reply
        result = dict(message)
        if result.get("Response") == "Error":
            raise AmiError(f"AMI {name} failed: {result.get('Message', '')}")
        return result

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str = "s",
        priority: int = 1,
        application: str | None = None,
        data: str = "",
        caller_id: str = "",
        variables: dict[str, str] | None = None,
        timeout_ms: int = 30000,
        action_id: str | None = None,
    ) -> str:
        """Start a call without waiting for it to be answered. Returns the ActionID.

        Re-sending with the same ``action_id`` is the caller's business: callbacks keep a
        dial-attempt key in Redis so that a retried originate never rings a citizen twice.
        """
        fields: dict[str, str] = {
            "Action": "Originate",
            "Channel": channel,
            "Async": "true",
            "Timeout": str(timeout_ms),
            "ActionID": action_id or uuid.uuid4().hex,
        }
        if application:
            fields.update(Application=application, Data=data)
        else:
            if context is None:
                raise AmiError("originate needs a context or an application")
            fields.update(Context=context, Exten=exten, Priority=str(priority))
        if caller_id:
            fields["CallerID"] = caller_id
        if variables:
            fields["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
        if not self.connected:
            await self.wait_connected(10)
        # Not awaited: panoramisk completes the future only with OriginateResponse, which
        # comes when the far end answers or fails. Failures are logged when they arrive.
        future = self._manager.send_action(fields)
        future.add_done_callback(_log_originate_failure)
        return fields["ActionID"]

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self.action("Hangup", Channel=channel, Cause=str(cause))

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        await self.action(
            "Redirect", Channel=channel, Context=context, Exten=exten, Priority=str(priority)
        )

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self.action("DBPut", Family=family, Key=key, Val=value)

    async def set_var(self, channel: str, name: str, value: str) -> None:
        await self.action("Setvar", Channel=channel, Variable=name, Value=value)

    async def mixmonitor_mute(self, channel: str, mute: bool, direction: str = "both") -> None:
        await self.action(
            "MixMonitorMute", Channel=channel, Direction=direction, State="1" if mute else "0"
        )

    async def stop_mixmonitor(self, channel: str) -> None:
        await self.action("StopMixMonitor", Channel=channel)

    async def channels(self, timeout: float = 10.0) -> list[dict[str, str]]:
        """Every channel of the switch (AMI ``CoreShowChannels``: one event each)."""
        if not self.connected:
            await self.wait_connected(timeout)
        # A list ("EventList: start", an event per channel, the Complete event); a refusal is
        # one message.
        reply = await asyncio.wait_for(
            self._manager.send_action({"Action": "CoreShowChannels"}), timeout
        )
        messages = [dict(m) for m in reply] if isinstance(reply, list) else [dict(reply)]
        if messages[0].get("Response") == "Error":
            raise AmiError(f"AMI CoreShowChannels failed: {messages[0].get('Message', '')}")
        return [m for m in messages if m.get("Event") == "CoreShowChannel"]

    async def command(self, command: str) -> str:
        """Output of an Asterisk CLI command, as one string (AMI sends it line by line)."""
        reply = await self.action("Command", Command=command)
        output: object = reply.get("Output", "") or reply.get("content", "")
        if isinstance(output, list):  # panoramisk gives repeated Output: headers as a list
            return "\n".join(str(line) for line in output)
        return str(output)
