"""Which work orders a desk user reads and works on, and the audit of every read.

The scope (``backend.workorders.scope``) is the user's team (``users.team``): the own team's
orders, the intake nobody has taken yet, and the user's own; the roles with
``WORKORDERS_ALL_TEAMS`` (auditors, the commission's managers) see every team's. An order out
of scope named by its id is refused with 403 ``workorder-out-of-scope`` and the attempt
audited (``workorder.refused``); every read that shows orders is audited too
(``workorder.view``, ``workorder.list``, ``workorder.hotspots``, ``workorder.repeat_callers``).

A handling office's account (role ``department``, its office in ``users.team``) sees only the
orders dispatched to its office and takes only the office's steps (``DEPARTMENT_ACTIONS``:
承办, 退单, 反馈, permission ``WORKORDER_HANDLE``); the hotline takes every other step
(``WORKORDER_WORK``). A step taken by the wrong side is 403 ``workorder-step-not-yours``
naming whose step it is (docs/workorder-departments.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from agent_desk.auth.audit import audit_now
from agent_desk.auth.errors import Forbidden
from agent_desk.auth.guard import Caller, require
from agent_desk.auth.permissions import Permission, allowed
from agent_desk.state import AppState, state_of
from backend.models.users import Role, User
from backend.models.workorders import WorkOrder
from backend.workorders.reading import WorkOrderReader
from backend.workorders.scope import INTAKE, OrderScope
from backend.workorders.workflow import ACTION_LABELS, DEPARTMENT_ACTIONS, Action


class OrderOutOfScope(Forbidden):
    code = "workorder-out-of-scope"


class StepNotYours(Forbidden):
    code = "workorder-step-not-yours"


@dataclass(frozen=True)
class OrderAccess:
    """A desk user at work on orders: who, from where, and whose orders."""

    state: AppState
    caller: Caller
    scope: OrderScope

    @property
    def team(self) -> str:
        return self.scope.team

    def order(self, reader: WorkOrderReader, order_id: int, purpose: str) -> WorkOrder:
        """The order, when in scope; OrderOutOfScope (audited) when not."""
        order = reader.get(order_id)
        if self.scope.allows(order):
            return order
        details = {"purpose": purpose, "team": self.team, "order_team": order.team}
        self.audit("workorder.refused", f"work_order:{order_id}", details)
        if self.scope.department is not None:
            raise OrderOutOfScope(
                f"该工单未派发给您的承办单位（{self.scope.department or '未设置'}），无权查看或办理"
            )
        raise OrderOutOfScope("该工单属于其他班组，您无权查看或办理")

    def check_step(self, action: Action) -> None:
        """The office's steps for its accounts, the hotline's for the hotline; audited when
        refused."""
        needed = P.WORKORDER_HANDLE if action in DEPARTMENT_ACTIONS else P.WORKORDER_WORK
        if allowed(self.caller.session.role, needed):
            return
        self.audit("workorder.step_refused", details={"action": action.value})
        label = ACTION_LABELS[action]
        if action in DEPARTMENT_ACTIONS:
            raise StepNotYours(f"「{label}」由承办单位办理：请承办单位以其账户登录后操作")
        raise StepNotYours(f"「{label}」由热线办理，承办单位账户不能操作")

    def audit(self, action: str, target: str = "", details: dict[str, Any] | None = None) -> None:
        audit_now(
            self.state.session_factory, self.caller.username, action,
            target=target, source_ip=self.caller.ip, details=details,
        )  # fmt: skip


def scope_of(state: AppState, caller: Caller) -> OrderScope:
    if allowed(caller.session.role, Permission.WORKORDERS_ALL_TEAMS):
        return OrderScope(caller.username, INTAKE, all_teams=True)
    with state.session_factory() as db:
        user = db.get(User, caller.session.user_id)
        team = user.team.strip() if user else INTAKE
    if caller.session.role is Role.DEPARTMENT:
        return OrderScope(caller.username, INTAKE, department=team)
    return OrderScope(caller.username, team)


def order_access(permission: Permission) -> Callable[[Request], OrderAccess]:
    """The route dependency: ``permission`` checked (``require``), then the user's scope."""
    checked = require(permission)

    def dependency(request: Request) -> OrderAccess:
        caller = checked(request)
        state = state_of(request)
        return OrderAccess(state, caller, scope_of(state, caller))

    dependency.__name__ = f"orders_{permission.name.lower()}"
    return dependency


P = Permission
OrderReader = Annotated[OrderAccess, Depends(order_access(P.WORKORDER_READ))]
OrderWorker = Annotated[OrderAccess, Depends(order_access(P.WORKORDER_WORK))]
OrderDesk = Annotated[OrderAccess, Depends(order_access(P.WORKORDER_DESK))]
