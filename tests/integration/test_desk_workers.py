"""``callcenter desk`` in two processes: a user logged in on one is known on the other, and a
knowledge article saved through one is found at once through the other.

Which process serves a connection is the kernel's choice; the test reads it off /proc (the
worker holding the server end of the connection) and opens connections until it has one to
each worker."""

from __future__ import annotations

import http.client
import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from backend.settings import Settings
from tests.conftest import free_port
from tests.desk_process import socket_inodes, start_desk, stop_desk, tcp_sockets, wait_for_workers
from tests.desk_support import PASSWORD, fresh_totp_code, make_user

WORKERS = 2


@dataclass
class Desk:
    port: int
    workers: list[int]  # process ids


@pytest.fixture()
def desk(settings: Settings, run_id: str, tmp_path: Path) -> Iterator[Desk]:
    port = free_port()
    env = {
        **os.environ,
        "CC_DATABASE_URL": settings.database_url,
        "CC_REDIS_URL": settings.redis_url,
        "CC_DESK_BIND": "127.0.0.1",  # /proc/net/tcp holds the IPv4 sockets
        "CC_DESK_PORT": str(port),
        "CC_DESK_WORKERS": str(WORKERS),
        "CC_DESK_REDIS_PREFIX": f"workers-{run_id}",
        "CC_STATE_DIR": str(tmp_path),
    }
    log = tmp_path / "desk.log"
    proc = start_desk(env, log)
    try:
        yield Desk(port, wait_for_workers(proc, port, log, WORKERS))
    finally:
        stop_desk(proc)


def worker_of(desk: Desk, conn: http.client.HTTPConnection) -> int:
    """The worker holding the server end of ``conn`` (which must have made a request)."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    server_ends = {
        inode
        for local, remote, _, inode in tcp_sockets()
        if local == desk.port and remote == client_port
    }
    for pid in desk.workers:
        if server_ends & socket_inodes(pid):
            return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def request(
    conn: http.client.HTTPConnection, method: str, path: str, cookie: str = "", body: object = None
) -> tuple[int, object, str]:
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body)
    conn.request(method, path, body=data, headers=headers)
    reply = conn.getresponse()
    payload = reply.read()
    cookie = (reply.getheader("Set-Cookie") or "").split(";")[0]
    return reply.status, json.loads(payload) if payload else None, cookie


def connections_to_both(desk: Desk) -> dict[int, http.client.HTTPConnection]:
    """One new connection to each worker (new connections until both were reached)."""
    found: dict[int, http.client.HTTPConnection] = {}
    opened = []
    for _ in range(500):
        conn = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=10)
        opened.append(conn)
        assert request(conn, "GET", "/healthz")[0] == 200
        found.setdefault(worker_of(desk, conn), conn)
        if len(found) == WORKERS:
            break
    for conn in opened:
        if conn not in found.values():
            conn.close()
    assert len(found) == WORKERS, "500 connections all went to one worker"
    return found


def close(connections: dict[int, http.client.HTTPConnection]) -> None:
    for conn in connections.values():
        conn.close()


def test_a_login_on_one_worker_holds_on_the_other_and_an_edit_is_searchable_at_once(
    desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    supervisor = make_user(session_factory, Role.SUPERVISOR)
    connections = connections_to_both(desk)
    first, second = connections.values()
    status, state, cookie = request(
        first,
        "POST",
        "/api/auth/login",
        body={"username": supervisor.username, "password": PASSWORD},
    )
    assert status == 200 and cookie, state
    code = fresh_totp_code(supervisor.totp_secret or "")
    status, state, cookie = request(first, "POST", "/api/auth/totp", cookie, {"code": code})
    assert status == 200 and cookie, state
    for conn in (first, second):
        status, me, _ = request(conn, "GET", "/api/auth/me", cookie)
        assert status == 200, me
        assert isinstance(me, dict) and me["username"] == supervisor.username

    # The first search of a worker waits for its index and loads its word segmenter: done on
    # both at once (a connection left idle past the server's 5 s keep-alive is closed), on
    # connections then dropped.
    word = "跨进程" + uuid.uuid4().hex[:6]
    search = "/api/knowledge/search?q=" + quote(word)
    with ThreadPoolExecutor(WORKERS) as pool:
        warmed = list(
            pool.map(lambda conn: request(conn, "GET", search, cookie)[0], (first, second))
        )
    assert warmed == [200, 200]
    close(connections)

    # On new connections: the second worker's index has just looked at the database; the
    # article is saved through the first worker and searched for through the second at once.
    connections = connections_to_both(desk)
    first, second = connections.values()
    assert request(second, "GET", search, cookie)[0] == 200
    status, article, _ = request(
        first,
        "POST",
        "/api/knowledge/articles",
        cookie,
        body={"title": f"{word}的挂号须知", "body": "跨进程检索的说明", "category": "挂号"},
    )
    assert status == 201, article
    status, hits, _ = request(second, "GET", search, cookie)
    close(connections)
    assert status == 200, hits
    assert isinstance(hits, list) and isinstance(article, dict)
    assert article["article_id"] in [hit["article_id"] for hit in hits]
