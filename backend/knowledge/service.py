"""Knowledge articles in the database, and the search index kept in step with them.

Versions are immutable: an edit adds a version; retiring an article takes it out of search.
Every change bumps ``knowledge_articles.updated_at``, which is how ``KnowledgeSearch`` in any
process notices that it must re-index an article.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor, record_audit
from backend.errors import NotFound, Refused
from backend.knowledge.index import Doc, Hit, SearchIndex, current_versions
from backend.models.knowledge import KnowledgeArticle, KnowledgeVersion

log = logging.getLogger("backend.knowledge")

KINDS = ("policy_qa", "document", "question")


@dataclass
class ArticleDraft:
    title: str
    body: str
    category: str = ""
    tags: list[str] = field(default_factory=list)
    kind: str = "policy_qa"
    valid_from: date | None = None
    valid_until: date | None = None


Editor = Actor  # who writes an article


def _check(draft: ArticleDraft) -> None:
    if not draft.title.strip():
        raise Refused("知识标题不能为空", code="title-required")
    if draft.kind not in KINDS:
        raise Refused(f"知识类型只能是 {', '.join(KINDS)}", code="bad-kind")
    if draft.valid_from and draft.valid_until and draft.valid_until < draft.valid_from:
        raise Refused("失效日期早于生效日期", code="bad-validity")


def _version(
    article_id: int, number: int, draft: ArticleDraft, editor: Editor, now: datetime
) -> KnowledgeVersion:
    return KnowledgeVersion(
        article_id=article_id,
        version=number,
        title=draft.title.strip(),
        body=draft.body,
        category=draft.category.strip(),
        tags=[t.strip() for t in draft.tags if t.strip()],
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        created_by=editor.username,
        created_at=now,
    )


def _audit(
    session: Session, editor: Editor, action: str, article_id: int, now: datetime, **details: Any
) -> None:
    target = f"knowledge_article:{article_id}"
    record_audit(session, editor, f"knowledge.{action}", target, now, details)


def create_article(
    session: Session, draft: ArticleDraft, editor: Editor, now: datetime
) -> KnowledgeArticle:
    _check(draft)
    article = KnowledgeArticle(
        kind=draft.kind,
        latest_version=1,
        created_by=editor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    session.add(_version(article.id, 1, draft, editor, now))
    _audit(session, editor, "create", article.id, now, title=draft.title)
    session.flush()
    return article


def add_version(
    session: Session, article_id: int, draft: ArticleDraft, editor: Editor, now: datetime
) -> KnowledgeVersion:
    _check(draft)
    article = session.get(KnowledgeArticle, article_id, with_for_update=True)
    if article is None or article.status != "active":
        raise NotFound(f"没有编号为 {article_id} 的有效知识")
    article.latest_version += 1
    article.kind = draft.kind
    article.updated_at = now
    version = _version(article.id, article.latest_version, draft, editor, now)
    session.add(version)
    _audit(session, editor, "new_version", article.id, now, version=article.latest_version)
    session.flush()
    return version


def retire_article(session: Session, article_id: int, editor: Editor, now: datetime) -> None:
    article = session.get(KnowledgeArticle, article_id, with_for_update=True)
    if article is None:
        raise NotFound(f"没有编号为 {article_id} 的知识")
    article.status = "retired"
    article.updated_at = now
    _audit(session, editor, "retire", article.id, now)
    session.flush()


def versions_of(session: Session, article_id: int) -> list[KnowledgeVersion]:
    query = select(KnowledgeVersion).where(KnowledgeVersion.article_id == article_id)
    return list(session.scalars(query.order_by(KnowledgeVersion.version)))


def current_version(session: Session, article_id: int, today: date) -> KnowledgeVersion:
    """The version an agent is shown today; NotFound if retired or no version is in force."""
    article = session.get(KnowledgeArticle, article_id)
    if article is not None and article.status == "active":
        rows = versions_of(session, article_id)
        served = current_versions((_doc(v, article.kind) for v in rows), today).get(article_id)
        if served is not None:
            return next(v for v in rows if v.id == served.version_id)
    raise NotFound(f"编号为 {article_id} 的知识当前没有有效版本")


def _doc(version: KnowledgeVersion, kind: str) -> Doc:
    return Doc(
        version_id=version.id,
        article_id=version.article_id,
        version=version.version,
        title=version.title,
        body=version.body,
        category=version.category,
        tags=tuple(version.tags or ()),
        kind=kind,
        valid_from=version.valid_from,
        valid_until=version.valid_until,
    )


def load_docs(session: Session, article_ids: Collection[int] | None = None) -> dict[int, list[Doc]]:
    """Versions of the given active articles (all active articles when None)."""
    articles = select(KnowledgeArticle.id, KnowledgeArticle.kind).where(
        KnowledgeArticle.status == "active"
    )
    if article_ids is not None:
        articles = articles.where(KnowledgeArticle.id.in_(list(article_ids)))
    kinds = {row.id: row.kind for row in session.execute(articles)}
    docs: dict[int, list[Doc]] = defaultdict(list)
    if kinds:
        query = select(KnowledgeVersion).order_by(KnowledgeVersion.id)
        if article_ids is not None:
            query = query.where(KnowledgeVersion.article_id.in_(list(kinds)))
        for version in session.scalars(query.execution_options(yield_per=2000)):
            if version.article_id in kinds:
                docs[version.article_id].append(_doc(version, kinds[version.article_id]))
    return dict(docs)


Fingerprint = tuple[datetime, int, str]


def fingerprints(session: Session) -> dict[int, Fingerprint]:
    """What identifies an article's indexed state: a change to any part means re-index it."""
    rows = session.execute(
        select(
            KnowledgeArticle.id,
            KnowledgeArticle.updated_at,
            KnowledgeArticle.latest_version,
            KnowledgeArticle.status,
        )
    )
    return {row.id: (row.updated_at, row.latest_version, row.status) for row in rows}


class KnowledgeSearch:
    """The index of one process, refreshed from the database when an article changes.

    Checking costs one small query, done at most every ``check_every`` seconds.
    """

    def __init__(
        self, *, check_every: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._index = SearchIndex()
        self._lock = threading.Lock()
        self._stamp: tuple[datetime | None, int, int, int] | None = None
        self._checked_at: float | None = None
        self._known: dict[int, Fingerprint] = {}
        self._check_every = check_every
        self._clock = clock

    @property
    def index(self) -> SearchIndex:
        return self._index

    def refresh(self, session: Session, *, force: bool = False) -> None:
        now = self._clock()
        if (
            not force
            and self._checked_at is not None
            and now - self._checked_at < self._check_every
        ):
            return
        with self._lock:
            self._checked_at = now
            # Versions and retirements change the sums even when two edits share a timestamp.
            latest, count, versions, active = session.execute(
                select(
                    func.max(KnowledgeArticle.updated_at),
                    func.count(KnowledgeArticle.id),
                    func.coalesce(func.sum(KnowledgeArticle.latest_version), 0),
                    func.count(KnowledgeArticle.id).filter(KnowledgeArticle.status == "active"),
                )
            ).one()
            stamp = (latest, int(count), int(versions), int(active))
            if stamp == self._stamp:
                return
            # Compare every article's fingerprint rather than "changed since": timestamps of
            # concurrent edits need not commit in order.
            seen = fingerprints(session)
            changed = {a for a, f in seen.items() if self._known.get(a) != f}
            for article_id in set(self._known) - set(seen):
                self._index.remove_article(article_id)
            docs = load_docs(session, None if not self._known else changed)
            for article_id in changed:
                if article_id in docs:
                    self._index.put_article(article_id, docs[article_id])
                else:
                    self._index.remove_article(article_id)
            self._known = seen
            self._stamp = stamp

    def search(self, session: Session, query: str, *, today: date, limit: int = 10) -> list[Hit]:
        self.refresh(session)
        with self._lock:
            return self._index.search(query, today=today, limit=limit)


def warm_up(search: KnowledgeSearch, session_factory: sessionmaker[Session]) -> threading.Thread:
    """Build the index in the background as the desk starts, so that the first agent to search
    after a restart does not wait while thousands of articles are indexed (9-18 s for 10,000
    on this machine); a search made meanwhile waits for the build, as it would have anyway."""

    def build() -> None:
        started = time.monotonic()
        try:
            with session_factory() as session:
                search.refresh(session, force=True)
        except Exception:  # the first search builds it instead; the desk runs either way
            log.exception("knowledge index warm-up failed")
            return
        log.info(
            "knowledge index ready: %d articles in %.1f s",
            len(search.index),
            time.monotonic() - started,
        )

    thread = threading.Thread(target=build, name="knowledge-warm-up", daemon=True)
    thread.start()
    return thread
