"""The desk app as uvicorn starts it for the booking bench (settings from ``CC_*``)."""

from __future__ import annotations

from fastapi import FastAPI

from agent_desk.app import create_app
from backend.settings import load_settings


def make_app() -> FastAPI:
    return create_app(load_settings())
