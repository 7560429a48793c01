"""One error shape for every API: ``{"error": <stable id>, "message": <readable reason>}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.errors import CallCenterError, Conflict, NotFound, Refused

STATUS_BY_TYPE: dict[type[CallCenterError], int] = {NotFound: 404, Conflict: 409, Refused: 422}


def status_for(exc: CallCenterError) -> int:
    for kind, status in STATUS_BY_TYPE.items():
        if isinstance(exc, kind):
            return status
    return 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CallCenterError)
    async def _domain_error(request: Request, exc: CallCenterError) -> JSONResponse:
        return JSONResponse(
            status_code=status_for(exc), content={"error": exc.code, "message": exc.message}
        )
