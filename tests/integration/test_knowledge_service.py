"""Knowledge base on real PostgreSQL: demo articles, search from the database, versions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.knowledge.demo_data import ARTICLES, seed_knowledge_demo
from backend.knowledge.service import (
    ArticleDraft,
    Editor,
    KnowledgeSearch,
    add_version,
    create_article,
    current_version,
    retire_article,
)
from backend.models.audit import AuditRecord
from backend.settings import Settings
from tests.db_support import scratch_database

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
EDITOR = Editor("kb_admin", "10.0.0.8")


@pytest.fixture()
def seeded(db: Session) -> Session:
    seed_knowledge_demo(db, NOW)
    db.commit()
    return db


@pytest.fixture(scope="module")
def demo_corpus(settings: Settings) -> Iterator[Session]:
    """The demo articles alone: a ranking depends on every article's words (their weights
    are corpus-wide), so other tests' articles in the shared database would move it."""
    with scratch_database(settings, "kb") as scratch, scratch.factory() as session:
        seed_knowledge_demo(session, NOW)
        session.commit()
        yield session


@pytest.mark.parametrize("query", ["ybbx", "医保 报销", "yibaobaoxiao", "医保报消", "医宝报销"])
def test_agents_find_the_reimbursement_article_first(demo_corpus: Session, query: str) -> None:
    hits = KnowledgeSearch().search(demo_corpus, query, today=TODAY)
    assert hits[0].title == "医保报销怎么办理"
    assert len(hits) >= 2  # the other reimbursement articles are offered too
    assert "<mark>" in hits[0].title_html


def test_seeding_twice_adds_nothing(seeded: Session) -> None:
    assert seed_knowledge_demo(seeded, NOW) == 0
    assert len(ARTICLES) >= 20


def test_a_new_version_replaces_the_old_one_in_search(seeded: Session) -> None:
    search = KnowledgeSearch()
    marker = uuid.uuid4().hex[:6]
    article = create_article(
        seeded,
        ArticleDraft(f"大病保险{marker}起付标准", "起付标准为三万元。", "大病保险"),
        EDITOR,
        NOW,
    )
    seeded.commit()
    assert search.search(seeded, f"大病保险{marker}", today=TODAY)[0].version == 1

    add_version(
        seeded,
        article.id,
        ArticleDraft(f"大病保险{marker}起付线调整", "起付标准调整。", valid_from=date(2027, 1, 1)),
        EDITOR,
        NOW,
    )
    seeded.commit()
    search.refresh(seeded, force=True)
    assert current_version(seeded, article.id, TODAY).version == 1
    assert current_version(seeded, article.id, date(2027, 1, 1)).version == 2
    assert search.search(seeded, f"大病保险{marker}", today=date(2027, 1, 2))[0].version == 2

    retire_article(seeded, article.id, EDITOR, NOW)
    seeded.commit()
    search.refresh(seeded, force=True)
    titles = [h.title for h in search.search(seeded, f"大病保险{marker}", today=TODAY)]
    assert not any(marker in t for t in titles)
    with pytest.raises(NotFound):
        current_version(seeded, article.id, TODAY)
    actions = seeded.scalars(
        select(AuditRecord.action).where(AuditRecord.target == f"knowledge_article:{article.id}")
    ).all()
    assert sorted(actions) == ["knowledge.create", "knowledge.new_version", "knowledge.retire"]
