"""The desk app as bench/booking serves it: settings from ``CC_*``, served as ``callcenter
desk`` serves it (``agent_desk.http_server``), in ``--workers`` processes.

    python -m bench.booking.serve --port 8000 --workers 2
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI

from agent_desk.app import create_app
from agent_desk.http_server import serve
from backend.settings import load_settings


def make_app() -> FastAPI:
    return create_app(load_settings())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    serve(
        "bench.booking.serve:make_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
