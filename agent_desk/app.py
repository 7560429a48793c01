"""Composition root of the web app: builds its one state and mounts every feature's router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path

import redis
from anyio import to_thread
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_desk import live
from agent_desk.aio import close_loop_clients
from agent_desk.api import (
    adherence,
    admin_agents,
    admin_approvals,
    admin_calendar,
    admin_content,
    admin_keys,
    admin_onboarding,
    agent_phone,
    city_platform,
    desk_booking,
    hospital_api,
    knowledge,
    outbound,
    public_accounts,
    public_booking,
    training,
    workorders,
)
from agent_desk.api import admin as admin_api
from agent_desk.api import agent as agent_api
from agent_desk.api import callbacks as callbacks_api
from agent_desk.api import emergency as emergency_api
from agent_desk.api import metrics as metrics_api
from agent_desk.api import recordings as recordings_api
from agent_desk.api import reports as reports_api
from agent_desk.api import rosters as rosters_api
from agent_desk.api import sms as sms_api
from agent_desk.api import supervisor as supervisor_api
from agent_desk.auth import routes as auth_routes
from agent_desk.auth.middleware import SECURITY_HEADERS, SessionUserMiddleware
from agent_desk.body_limit import BodySizeLimit, desk_body_limits
from agent_desk.client_address import with_client_address
from agent_desk.errors import OutageAnswers, install_error_handlers
from agent_desk.hospital_gate import HospitalHeaderGate
from agent_desk.hospital_push_log import HospitalPushLog
from agent_desk.pages import routes as pages
from agent_desk.performance.booking_fast_path import BookingFastPath
from agent_desk.state import AppState, build_state
from backend.ami.client import AmiClient
from backend.db import make_engine, make_session_factory
from backend.knowledge import service as knowledge_service
from backend.settings import Settings
from backend.settings.addresses import IPNetwork

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _lifespan(
    settings: Settings, start_up: Callable[[], object] | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Size the worker's thread pool (where sync routes run) to its database connections, run
    ``start_up`` if any; close the asynchronous clients and the AMI connection when the app
    stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.desk_concurrency
        if start_up is not None:
            start_up()
        try:
            yield
        finally:
            state = app.state.app
            try:
                await close_loop_clients(state)
                await state.close_loop_redis()
            finally:
                state.close_ami()

    return lifespan


class DeskApp(FastAPI):
    """The desk app, with the online booking's fast path (``CC_DESK_FAST_PATH``) in front of
    everything FastAPI does on a request: its telemetry check (OpenTelemetry provider look-ups
    on every request), Starlette's dispatch, the error page and the session layer would
    otherwise be passed, and resumed at every await of the booking, on the platform's busiest
    request. The fast path adds the security headers itself; an error it does not expect
    becomes uvicorn's plain 500, the same as the error layer's."""

    booking_fast_path: ASGIApp | None = None  # wraps FastAPI's own __call__
    trusted_proxies: tuple[IPNetwork, ...] = ()  # CC_TRUSTED_PROXIES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = with_client_address(scope, self.trusted_proxies)
        if self.booking_fast_path is None:
            await super().__call__(scope, receive, send)
        else:
            await self.booking_fast_path(scope, receive, send)


ops = APIRouter(tags=["ops"])


@ops.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


# Every feature's module-level router, in the order they are matched.
ROUTERS: tuple[APIRouter, ...] = (
    ops,
    metrics_api.router,
    public_accounts.router,
    public_booking.router,
    hospital_api.router,
    workorders.router,
    knowledge.router,
    training.router,
    city_platform.router,
    auth_routes.router,
    agent_api.router,
    desk_booking.router,
    outbound.router,
    callbacks_api.router,
    emergency_api.router,
    supervisor_api.router,
    adherence.router,
    recordings_api.router,
    admin_api.router,
    admin_approvals.router,
    admin_agents.router,
    admin_keys.router,
    admin_onboarding.router,
    admin_calendar.router,
    agent_phone.router,
    admin_content.router,
    sms_api.router,
    live.router,
    pages.router,
    reports_api.router,
    rosters_api.router,
)


def create_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    redis_client: redis.Redis | None = None,
    ami: AmiClient | None = None,
    warm_knowledge_index: bool = False,
) -> FastAPI:
    """``warm_knowledge_index``: build the knowledge index as the app starts (the desk
    process does; tests, which start many apps, leave it to the first search)."""
    if session_factory is None:
        # Room for a second session in a request that opens one inside another.
        engine = make_engine(
            settings,
            pool_size=settings.desk_concurrency,
            max_overflow=settings.desk_concurrency,
        )
        session_factory = make_session_factory(engine)
    if redis_client is None:
        redis_client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    state = build_state(settings, session_factory, redis_client, ami=ami)
    start_up = (
        partial(knowledge_service.warm_up, state.knowledge_search, session_factory)
        if warm_knowledge_index
        else None
    )
    app = DeskApp(
        title="北京114与医保热线呼叫中心", version="0.1.0", lifespan=_lifespan(settings, start_up)
    )
    app.state.app = state
    install_http_layers(app, state)
    for router in ROUTERS:
        app.include_router(router)
    return app


def install_http_layers(app: DeskApp, state: AppState) -> None:
    """The error handlers, the middlewares, the booking fast path and the static files."""
    install_error_handlers(app)
    app.trusted_proxies = state.settings.proxy_networks
    # Added first, so inside the session layer: its 413 gets the security headers too.
    limits = desk_body_limits(state.settings, state.booking_api.rules.max_body_bytes)
    app.add_middleware(BodySizeLimit, limits=limits)
    # Outside the body limit: the hospital API's headers are checked before its body is read.
    app.add_middleware(HospitalHeaderGate, state=state)
    # Outside the gate: its refusals are kept on the hospital's page too.
    app.add_middleware(HospitalPushLog, state=state)
    app.add_middleware(SessionUserMiddleware)
    # Outermost, so that an outage in the session look-up is a 503 too.
    app.add_middleware(OutageAnswers, headers=SECURITY_HEADERS)
    if state.settings.desk_fast_path:
        app.booking_fast_path = BookingFastPath(partial(FastAPI.__call__, app), state=state)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
