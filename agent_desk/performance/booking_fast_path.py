"""``POST /api/public/bookings`` answered in front of the web framework.

The online booking is the platform's busiest request: at the daily release of a popular
department's slots thousands of phones send it within a minute. For this one request
FastAPI's machinery (dependency solving, the exception and routing layers, telemetry hooks)
cost as much server CPU as the booking transaction itself (bench/README.md).

So a plain ASGI app, in front of everything FastAPI does (``agent_desk.app.DeskApp`` calls it
before ``FastAPI.__call__``; it passes every other request on to that), takes
the request (without an ``Idempotency-Key``; keyed requests need the synchronous key store
and go on to the route) and does what the route does, with the route's own pieces from
``public_booking``: the per-address rate limit, the body-size limit, the bearer token, the
body's validation, the booking (``book_unkeyed``) and the masked receipt, with the same
status codes and error bodies. Every other request passes through untouched. The FastAPI
route stays the documented interface (OpenAPI) and serves keyed bookings;
``tests/integration/test_booking_api.py`` runs its cases on an app with this middleware and
on one without, so the two cannot drift apart.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_desk.api.booking_schemas import BookingCreate, booking_public_json
from agent_desk.api.public_booking import bearer_token_of, book_unkeyed, count_request
from agent_desk.auth.middleware import SECURITY_HEADERS
from agent_desk.body_limit import ClientGone, body_too_large, declared_length, read_body
from agent_desk.errors import error_response, invalid_request, outage_of
from agent_desk.state import AppState
from backend.errors import CallCenterError

PATH = "/api/public/bookings"
# The headers the session middleware gives every other response.
RAW_SECURITY_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS]


class BookingFastPath:
    def __init__(self, app: ASGIApp, *, state: AppState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "idempotency-key" in headers:
            await self.app(scope, receive, send)
            return
        try:
            response = await self._book(scope, headers, receive)
        except ClientGone:
            return
        response.raw_headers.extend(RAW_SECURITY_HEADERS)
        await response(scope, receive, send)

    async def _book(self, scope: Scope, headers: Headers, receive: Receive) -> Response:
        client = scope.get("client")
        address = client[0] if client else ""
        limit = self._state.booking_api.rules.max_body_bytes
        try:
            if declared_length(headers) > limit:
                raise body_too_large(limit)
            await count_request(self._state, address)
            body = await read_body(receive, limit)
            token = bearer_token_of(headers.get("authorization", ""))
            request = BookingCreate.model_validate_json(body)
            booked = await book_unkeyed(self._state, token, request, address)
        except CallCenterError as exc:
            return error_response(exc)
        except ValidationError as exc:
            return invalid_request(exc.errors())
        except Exception as exc:
            outage = outage_of(exc)  # PostgreSQL or Redis gone: 503, as on every route
            if outage is None:
                raise
            return error_response(outage)
        return Response(booking_public_json(booked), status_code=201, media_type="application/json")
