"""Whose work orders a person may read and work on.

An order belongs to a desk team (``work_orders.team``): the team of the person who filed it,
or, for an order that came in without a person (an IVR message, a queue voicemail, a 12345
import), of the person who signed for it. Until somebody signs for such an order its team is
"": it is the shared intake, which every desk user sees so that someone can take it. The
``department`` an order is dispatched to is the outside office that handles it (承办单位);
an office's own accounts (role ``department``) are scoped by it alone: they see the orders
dispatched to their office and nothing else, not even the intake.

A scoped person sees the own team's orders, the intake, and the orders they filed or signed
for themselves (kept when they move to another team); ``EVERY_ORDER`` is the scope of the
roles that oversee every team (auditors, the commission's managers) and of the system.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, true

from backend.models.workorders import WorkOrder

INTAKE = ""  # the team of an order nobody has taken yet


@dataclass(frozen=True)
class OrderScope:
    username: str
    team: str
    all_teams: bool = False
    department: str | None = None  # a handling office's account: its office's orders only

    def allows(self, order: WorkOrder) -> bool:
        if self.department is not None:
            return bool(self.department) and order.department == self.department
        if self.all_teams or order.team in (INTAKE, self.team):
            return True
        return self.username in (order.created_by, order.assignee)

    def condition(self) -> ColumnElement[bool]:
        """The same test as ``allows``, for a query's WHERE."""
        if self.department is not None:
            return and_(WorkOrder.department != "", WorkOrder.department == self.department)
        if self.all_teams:
            return true()
        return or_(
            WorkOrder.team.in_([INTAKE, self.team]),
            WorkOrder.created_by == self.username,
            WorkOrder.assignee == self.username,
        )


EVERY_ORDER = OrderScope("", INTAKE, all_teams=True)
