"""The desk's performance layer: what the online booking's load asked for beyond the standard
libraries, in one place and behind one setting, ``CC_DESK_FAST_PATH`` (default true).

- ``booking_fast_path``: ``POST /api/public/bookings`` without an ``Idempotency-Key`` answered
  in front of FastAPI, with the route's own pieces (``agent_desk.app.DeskApp`` calls it);
- ``fair_pool``: an asyncpg connection pool that serves its waiters in arrival order;
- ``pipelined_redis``: one pipelined Redis connection per event loop for the request counter;
- ``coalesced_writes``: a transport that sends what one pass of the loop wrote in one call;
- ``http_protocol``: uvicorn's HTTP protocol on that transport (``agent_desk.http_server``).

With the setting false the desk runs the standard path, answering alike: the FastAPI route,
asyncpg's pool and redis-py's asyncio client (``agent_desk.aio``), uvicorn as it comes. The
API tests run on both. Why each piece exists, and what it measured, is in bench/README.md.

The package sits in the web layer because the fast path is made of the public booking route's
pieces; the lower layers reach the pool and the Redis client only through the ports they
define (``backend.booking.online.ConnectionSource``, ``backend.redis_commands``).
"""
