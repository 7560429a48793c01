"""Knowledge base on the desk: search while talking, read an article, edit (team leaders).

Schemas — one family: ``ArticleBase``, ``ArticleCreate`` (a new article or a new version of
one: versions are whole) and ``ArticlePublic``; search answers ``KnowledgeHit``.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_desk.api.workorder_schemas import MAX_ID
from agent_desk.deps import KnowledgeEditor, KnowledgeReader, SessionDep, StateDep
from agent_desk.errors import error_responses
from backend.knowledge.service import (
    KINDS,
    ArticleDraft,
    KnowledgeSearch,
    add_version,
    create_article,
    current_version,
    retire_article,
    versions_of,
)
from backend.models.knowledge import KnowledgeVersion
from backend.workorders.exchange import CleanStr

router = APIRouter(tags=["知识库"], responses=error_responses(400, 401, 403, 404, 422))
ArticleId = Annotated[int, Path(ge=1, le=MAX_ID)]


class KnowledgeHit(BaseModel):
    article_id: int
    version: int
    title: str
    category: str
    kind: str
    score: float
    title_html: str = Field(description="标题，命中部分以 <mark> 标出（已转义）")
    snippet_html: str = Field(description="正文摘要，命中部分以 <mark> 标出（已转义）")
    matched_by: list[str]


class ArticleBase(BaseModel):
    title: CleanStr = Field(min_length=1, max_length=200)
    body: CleanStr = Field(default="", max_length=50000)
    category: CleanStr = Field(default="", max_length=200)
    tags: list[CleanStr] = Field(default_factory=list, max_length=30)
    valid_from: date | None = None
    valid_until: date | None = None


class ArticleCreate(ArticleBase):
    kind: CleanStr = Field(default="policy_qa", description="/".join(KINDS))

    def draft(self) -> ArticleDraft:
        return ArticleDraft(**self.model_dump())


class ArticlePublic(ArticleBase):
    article_id: int
    version: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Knowledge:
    """The index of this app (filled from the database on first use) and the local day."""

    search: KnowledgeSearch
    zone: ZoneInfo

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def public(self, version: KnowledgeVersion) -> ArticlePublic:
        return ArticlePublic(
            article_id=version.article_id,
            version=version.version,
            title=version.title,
            body=version.body,
            category=version.category,
            tags=list(version.tags or []),
            valid_from=version.valid_from,
            valid_until=version.valid_until,
            created_by=version.created_by,
            created_at=version.created_at.astimezone(self.zone),
        )

    def edited(self, session: Session) -> None:
        """Keep an edit and show it in this process's searches at once."""
        session.commit()
        self.search.refresh(session, force=True)


async def get_knowledge(state: StateDep) -> Knowledge:
    return Knowledge(state.knowledge_search, state.tz)


KnowledgeDep = Annotated[Knowledge, Depends(get_knowledge)]


@router.get("/api/knowledge/search", summary="知识检索（关键词、简拼、全拼、错别字容错）")
def search_articles(
    session: SessionDep,
    kb: KnowledgeDep,
    who: KnowledgeReader,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[KnowledgeHit]:
    hits = kb.search.search(session, q, today=kb.today(), limit=limit)
    return [KnowledgeHit.model_validate(h, from_attributes=True) for h in hits]


@router.get("/api/knowledge/articles/{article_id}", summary="知识全文（当前有效版本）")
def read_article(
    article_id: ArticleId, session: SessionDep, kb: KnowledgeDep, who: KnowledgeReader
) -> ArticlePublic:
    return kb.public(current_version(session, article_id, kb.today()))


@router.get("/api/knowledge/articles/{article_id}/versions", summary="知识的全部版本")
def article_versions(
    article_id: ArticleId, session: SessionDep, kb: KnowledgeDep, who: KnowledgeReader
) -> list[ArticlePublic]:
    return [kb.public(v) for v in versions_of(session, article_id)]


@router.post("/api/knowledge/articles", status_code=201, summary="新建知识（班长、管理员）")
def new_article(
    body: ArticleCreate, session: SessionDep, kb: KnowledgeDep, who: KnowledgeEditor
) -> ArticlePublic:
    article = create_article(session, body.draft(), who.actor, datetime.now(UTC))
    kb.edited(session)
    return kb.public(versions_of(session, article.id)[-1])


@router.post(
    "/api/knowledge/articles/{article_id}/versions",
    status_code=201,
    summary="发布新版本（班长、管理员）",
)
def new_version(
    article_id: ArticleId,
    body: ArticleCreate,
    session: SessionDep,
    kb: KnowledgeDep,
    who: KnowledgeEditor,
) -> ArticlePublic:
    version = add_version(session, article_id, body.draft(), who.actor, datetime.now(UTC))
    kb.edited(session)
    return kb.public(version)


@router.post("/api/knowledge/articles/{article_id}/retire", summary="下架知识（班长、管理员）")
def retire(
    article_id: ArticleId, session: SessionDep, kb: KnowledgeDep, who: KnowledgeEditor
) -> dict[str, int]:
    retire_article(session, article_id, who.actor, datetime.now(UTC))
    kb.edited(session)
    return {"retired": article_id}
