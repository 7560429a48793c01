"""Page routes: each page asks for one permission; data comes from the JSON APIs and /ws/live."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from agent_desk.auth.errors import NotAuthenticated
from agent_desk.auth.guard import Caller, caller_of, check_permission
from agent_desk.auth.permissions import HOME_PAGE, ROLE_LABELS, ROLE_PERMISSIONS, Permission
from agent_desk.auth.sessions import Stage
from agent_desk.pages.templates import page_templates
from agent_desk.state import state_of
from backend.acd.states import REASON_LABELS, STATE_LABELS, NotReadyReason
from backend.lines import LINES

P = Permission
# Navigation entries, shown only to roles holding the permission.
NAV: list[tuple[str, str, Permission]] = [
    ("/desk", "坐席工作台", P.DESK),
    ("/desk/training", "培训考核", P.DESK),
    ("/supervisor", "班组监控", P.WALLBOARD),
    ("/supervisor/recordings", "录音查询", P.RECORDINGS),
    ("/reports", "统计报表", P.REPORTS),
    ("/rosters", "排班", P.ROSTERS),
    ("/audit", "审计日志", P.AUDIT_LOG),
    ("/admin", "系统管理", P.ADMIN),
    ("/hospital", "医院号源", P.HOSPITAL),
    ("/department", "承办工单", P.WORKORDER_HANDLE),
]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'"
)
BREAK_REASONS = [
    r for r in NotReadyReason if r not in (NotReadyReason.NO_ANSWER, NotReadyReason.LOGIN)
]


templates = page_templates()
router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, permission: Permission, **extra: Any) -> Response:
    caller = caller_of(request)
    check_permission(state_of(request), caller, permission, request.url.path)
    return render_page(request, name, caller, **extra)


def render_page(request: Request, name: str, caller: Caller | None, **extra: Any) -> Response:
    perms = ROLE_PERMISSIONS[caller.session.role] if caller else frozenset()
    context = {
        "user": caller.session if caller else None,
        "role_label": ROLE_LABELS[caller.session.role] if caller else "",
        "nav": [(href, label) for href, label, p in NAV if p in perms],
        "path": request.url.path,
        **extra,
    }
    response = templates.TemplateResponse(request, name, context)
    response.headers["Cache-Control"] = "no-store"
    # Everything a desk page needs is served by the app itself: nothing else may load.
    response.headers["Content-Security-Policy"] = CSP
    return response


@router.get("/")
def home(request: Request) -> Response:
    try:
        caller = caller_of(request)
    except NotAuthenticated:
        return RedirectResponse("/login", status_code=303)
    pending = {Stage.TOTP: "/login/totp", Stage.CHANGE_PASSWORD: "/password"}
    target = pending.get(caller.session.stage, HOME_PAGE[caller.session.role])
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return render_page(request, "login.html", None, step="password")


@router.get("/login/totp", response_class=HTMLResponse)
def totp_page(request: Request) -> Response:
    return render_page(request, "login.html", caller_of(request), step="totp")


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request) -> Response:
    return render_page(request, "login.html", caller_of(request), step="password_change")


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request) -> Response:
    return page(
        request,
        "desk.html",
        P.DESK,
        state_labels=STATE_LABELS,
        reasons=[(r.value, REASON_LABELS[r]) for r in BREAK_REASONS],
    )


@router.get("/desk/training", response_class=HTMLResponse)
def training_page(request: Request) -> Response:
    # Team leaders also review the questions an article edit has put up for review.
    can_edit = P.KNOWLEDGE_EDIT in ROLE_PERMISSIONS[caller_of(request).session.role]
    return page(request, "training.html", P.DESK, can_edit=can_edit)


@router.get("/desk/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: int) -> Response:
    return page(request, "order.html", P.WORKORDER_DESK, order_id=order_id)


@router.get("/supervisor", response_class=HTMLResponse)
def wallboard_page(request: Request) -> Response:
    return page(request, "wallboard.html", P.WALLBOARD, state_labels=STATE_LABELS)


@router.get("/supervisor/recordings", response_class=HTMLResponse)
def recordings_page(request: Request) -> Response:
    return page(request, "recordings.html", P.RECORDINGS)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> Response:
    return page(request, "audit.html", P.AUDIT_LOG)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> Response:
    return page(request, "admin.html", P.ADMIN)


@router.get("/hospital", response_class=HTMLResponse)
def hospital_page(request: Request) -> Response:
    return page(request, "hospital.html", P.HOSPITAL)


@router.get("/department", response_class=HTMLResponse)
def department_page(request: Request) -> Response:
    """A handling office's orders and its steps (承办, 退单, 反馈)."""
    return page(request, "department.html", P.WORKORDER_HANDLE)


@router.get("/rosters", response_class=HTMLResponse)
def rosters_page(request: Request) -> Response:
    return page(request, "rosters.html", P.ROSTERS, lines=LINES)
