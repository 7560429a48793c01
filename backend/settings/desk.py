"""The agent desk's web server: where it serves, how much at once, in how many processes, and
the performance layer."""

from __future__ import annotations

from pydantic import Field

from backend.settings.base import SettingsGroup


class DeskSettings(SettingsGroup):
    desk_bind: str = "127.0.0.1"
    desk_port: int = Field(default=8080, ge=1, le=65535)
    # Requests a web worker serves at once in its thread pool, each with a database connection
    # of its own: the pools keep that many connections open between requests, so a busy
    # worker does not open and close one per request (that churn once cost more CPU than the
    # requests themselves).
    desk_concurrency: int = Field(default=16, ge=1, le=200)
    # Processes ``callcenter desk`` serves the desk in (about one per core it may use). They
    # keep nothing in memory that a user or a live feed depends on: sessions, agent states and
    # live events are in Redis, the rest in PostgreSQL; each holds its own connection pools.
    desk_workers: int = Field(default=1, ge=1, le=64)
    # uvicorn's line per request on standard output (who asked what, and the status). Off where
    # a proxy in front logs requests already: at the daily slot release it is a line for every
    # online booking.
    desk_access_log: bool = True
    # The performance layer (agent_desk/performance): plain online bookings answered in front
    # of FastAPI, the asyncpg pool and pipelined Redis connection of our own, responses written
    # in one system call. false: the standard path (the FastAPI route, asyncpg's pool,
    # redis-py, uvicorn as it comes), answering alike; e.g. to rule the layer out of a fault.
    desk_fast_path: bool = True
    # The most bytes a request body may have (413 before anything reads it,
    # agent_desk/body_limit.py): the desk's own APIs, and the 12345 platform's order imports
    # (batches of up to 500 orders). The online booking API has its own
    # (CC_BOOKING_MAX_BODY_BYTES), the hospitals' API CC_HOSPITAL_API_MAX_BODY_BYTES, sign-in
    # 4 KiB.
    desk_max_body_bytes: int = Field(default=512 * 1024, ge=16 * 1024, le=16 * 1024 * 1024)
    city_platform_max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024
    )
    # The hospitals' API (/api/hospital/): its largest push (500 schedules, 20 000 slots,
    # agent_desk/api/hospital_schemas.py) as indented JSON is about 3.5 MiB.
    hospital_api_max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024
    )
    # Key prefix of everything the desk keeps in Redis (sessions) and of the live-event channel.
    desk_redis_prefix: str = "cc"
