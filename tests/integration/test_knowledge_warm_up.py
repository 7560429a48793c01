"""The desk builds its knowledge index as it starts, not on the first agent's search."""

from __future__ import annotations

import time

import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.knowledge.service import KnowledgeSearch
from backend.models.knowledge import KnowledgeArticle
from backend.settings import Settings
from tests.desk_support import desk_settings


def _articles(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        seed_knowledge_demo(session)
        session.commit()
        count = session.scalar(
            select(func.count(KnowledgeArticle.id)).where(KnowledgeArticle.status == "active")
        )
        return int(count or 0)


def _index_of(client: TestClient) -> KnowledgeSearch:
    search = client.app.state.app.knowledge_search  # type: ignore[attr-defined]
    assert isinstance(search, KnowledgeSearch)
    return search


def test_the_desk_process_indexes_the_knowledge_base_before_anyone_searches(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    active = _articles(session_factory)
    assert active > 0
    app = create_app(
        desk_settings(settings, redis_namespace),
        session_factory=session_factory,
        redis_client=redis_client,
        warm_knowledge_index=True,
    )
    with TestClient(app) as client:  # starting the app starts the build; nobody searches
        search = _index_of(client)
        deadline = time.monotonic() + 60
        while len(search.index) < active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(search.index) == active


def test_without_warm_up_the_index_waits_for_the_first_search(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    assert _articles(session_factory) > 0
    app = create_app(
        desk_settings(settings, redis_namespace),
        session_factory=session_factory,
        redis_client=redis_client,
    )
    with TestClient(app) as client:
        time.sleep(0.5)
        assert len(_index_of(client).index) == 0
