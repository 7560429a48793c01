"""Roles and what each may do, kept as data so that an audit can read it in one place.

Pure: no I/O. Routes ask for a permission, never for a role, so that moving a right from one
role to another is a one-line change here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from backend.models.users import Role


class Permission(enum.StrEnum):
    DESK = "desk"  # the agent workbench: own state, current call, screen pop
    CALL_CONTROL = "call.control"  # hold / resume / transfer / hang up own call
    BOOKING_DESK = "booking.desk"  # book and cancel for a caller
    WORKORDER_DESK = "workorder.desk"  # create and act on work orders from a call
    WORKORDER_READ = "workorder.read"  # list and read work orders, hot spots, repeat callers
    WORKORDERS_ALL_TEAMS = "workorder.all_teams"  # every team's (else the own team's only)
    WORKORDER_WORK = "workorder.work"  # create work orders, the hotline's steps (审核, 回访...)
    WORKORDER_HANDLE = "workorder.handle"  # the handling office's steps: 承办, 退单, 反馈
    KNOWLEDGE = "knowledge.search"  # search and read the knowledge base
    KNOWLEDGE_EDIT = "knowledge.edit"  # write, revise and retire knowledge articles
    WALLBOARD = "wallboard.view"
    FORCE_STATE = "agent.force_state"
    LISTEN = "call.listen"  # ChanSpy on a live call
    RECORDINGS = "recordings.play"  # search, play and download recordings
    RECORDINGS_ALL_TEAMS = "recordings.all_teams"  # every team's (else the own team's only)
    AUDIT_LOG = "audit.view"
    REPORTS = "reports.view"
    ROSTERS = "rosters.edit"  # generate, edit and publish rosters (排班)
    ADMIN = "admin.manage"  # users, agents, skills, queues, prompts, hospitals, notices
    HOSPITAL = "hospital.view"  # a hospital operator's own bookings and schedules
    EMERGENCY = "emergency.switch"  # switch emergency messages on and off (backend/emergency.py)


P = Permission
# Auditors and the commission's managers read work orders and the knowledge base; hospital
# operators see neither. Administrators work on orders and edit knowledge but take no calls.
# Work orders, like recordings, are read team by team (backend.workorders.scope): only the
# roles that oversee every team (auditors; managers for orders) read all of them.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(
        {P.DESK, P.CALL_CONTROL, P.BOOKING_DESK, P.WORKORDER_DESK, P.KNOWLEDGE}
        | {P.WORKORDER_READ, P.WORKORDER_WORK}
    ),
    Role.SUPERVISOR: frozenset(
        {
            P.DESK,
            P.CALL_CONTROL,
            P.BOOKING_DESK,
            P.WORKORDER_DESK,
            P.WORKORDER_READ,
            P.WORKORDER_WORK,
            P.KNOWLEDGE,
            P.KNOWLEDGE_EDIT,
            P.WALLBOARD,
            P.FORCE_STATE,
            P.LISTEN,
            P.RECORDINGS,
            P.REPORTS,
            P.EMERGENCY,
            P.ROSTERS,
        }
    ),
    Role.ADMIN: frozenset(
        {P.ADMIN, P.AUDIT_LOG, P.WALLBOARD, P.WORKORDER_READ, P.WORKORDER_WORK}
        | {P.KNOWLEDGE, P.KNOWLEDGE_EDIT}
    ),
    Role.AUDITOR: frozenset(
        {P.AUDIT_LOG, P.RECORDINGS, P.RECORDINGS_ALL_TEAMS, P.REPORTS, P.WORKORDER_READ}
        | {P.WORKORDERS_ALL_TEAMS, P.KNOWLEDGE}
    ),
    Role.HOSPITAL: frozenset({P.HOSPITAL}),
    Role.MANAGER: frozenset(
        {P.REPORTS, P.WALLBOARD, P.WORKORDER_READ, P.WORKORDERS_ALL_TEAMS, P.KNOWLEDGE}
    ),
    # A handling office reads the orders dispatched to it and does its own steps only.
    Role.DEPARTMENT: frozenset({P.WORKORDER_READ, P.WORKORDER_HANDLE}),
}

# Permissions that only count from an allowed network and after a second factor.
ADMIN_PERMISSIONS = frozenset({P.ADMIN})

# Where each role lands after login.
HOME_PAGE: Mapping[Role, str] = {
    Role.AGENT: "/desk",
    Role.SUPERVISOR: "/supervisor",
    Role.ADMIN: "/admin",
    Role.AUDITOR: "/supervisor/recordings",
    Role.HOSPITAL: "/hospital",
    Role.MANAGER: "/supervisor",
    Role.DEPARTMENT: "/department",
}

ROLE_LABELS: Mapping[Role, str] = {
    Role.AGENT: "坐席",
    Role.SUPERVISOR: "班组长",
    Role.ADMIN: "管理员",
    Role.AUDITOR: "审计员",
    Role.HOSPITAL: "医院操作员",
    Role.MANAGER: "卫健委管理人员",
    Role.DEPARTMENT: "承办单位",
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


# Roles that read recordings or citizens' personal data beyond the caller on the line, or
# administer: they sign in with a one-time code after the password.
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR, Role.MANAGER})


def needs_second_factor(role: Role) -> bool:
    return role in SECOND_FACTOR_ROLES
