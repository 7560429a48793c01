"""Knowledge base on the desk: search while talking, read an article, edit (team leaders)."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from agent_desk.api.workorders import (
    ERROR_RESPONSES,
    MAX_ID,
    SHANGHAI,
    CurrentActor,
    DeskActor,
    Reader,
    require_role,
)
from agent_desk.deps import SessionDep
from backend.knowledge.service import (
    KINDS,
    ArticleDraft,
    Editor,
    KnowledgeSearch,
    add_version,
    create_article,
    current_version,
    retire_article,
    versions_of,
)
from backend.models.knowledge import KnowledgeVersion
from backend.workorders.exchange import CleanStr

EDITOR_ROLES = ("supervisor", "admin")
ArticleId = Annotated[int, Path(ge=1, le=MAX_ID)]


class SearchHitOut(BaseModel):
    article_id: int
    version: int
    title: str
    category: str
    kind: str
    score: float
    title_html: str = Field(description="标题，命中部分以 <mark> 标出（已转义）")
    snippet_html: str = Field(description="正文摘要，命中部分以 <mark> 标出（已转义）")
    matched_by: list[str]


class ArticleIn(BaseModel):
    title: CleanStr = Field(min_length=1, max_length=200)
    body: CleanStr = Field(default="", max_length=50000)
    category: CleanStr = Field(default="", max_length=200)
    tags: list[CleanStr] = Field(default_factory=list, max_length=30)
    kind: CleanStr = Field(default="policy_qa", description="/".join(KINDS))
    valid_from: date | None = None
    valid_until: date | None = None


class ArticleOut(BaseModel):
    article_id: int
    version: int
    title: str
    body: str
    category: str
    tags: list[str]
    valid_from: date | None
    valid_until: date | None
    created_by: str
    created_at: datetime


def article_out(version: KnowledgeVersion) -> ArticleOut:
    return ArticleOut(
        article_id=version.article_id,
        version=version.version,
        title=version.title,
        body=version.body,
        category=version.category,
        tags=list(version.tags or []),
        valid_from=version.valid_from,
        valid_until=version.valid_until,
        created_by=version.created_by,
        created_at=version.created_at.astimezone(SHANGHAI),
    )


def today() -> date:
    return datetime.now(SHANGHAI).date()


def editor(who: DeskActor) -> Editor:
    require_role(who, *EDITOR_ROLES)
    return Editor(who.username, who.source_ip)


def build_router(search: KnowledgeSearch | None = None) -> APIRouter:
    """``search`` is this app's index; it is filled from the database on first use."""
    index = search or KnowledgeSearch()
    router = APIRouter(tags=["知识库"], responses=ERROR_RESPONSES)

    @router.get("/api/knowledge/search", summary="知识检索（关键词、简拼、全拼、错别字容错）")
    def search_articles(
        session: SessionDep,
        who: Reader,
        q: Annotated[str, Query(min_length=1, max_length=100)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[SearchHitOut]:
        hits = index.search(session, q, today=today(), limit=limit)
        return [
            SearchHitOut(
                article_id=h.article_id,
                version=h.version,
                title=h.title,
                category=h.category,
                kind=h.kind,
                score=h.score,
                title_html=h.title_html,
                snippet_html=h.snippet_html,
                matched_by=list(h.matched_by),
            )
            for h in hits
        ]

    @router.get("/api/knowledge/articles/{article_id}", summary="知识全文（当前有效版本）")
    def read_article(article_id: ArticleId, session: SessionDep, who: Reader) -> ArticleOut:
        return article_out(current_version(session, article_id, today()))

    @router.get("/api/knowledge/articles/{article_id}/versions", summary="知识的全部版本")
    def article_versions(
        article_id: ArticleId, session: SessionDep, who: Reader
    ) -> list[ArticleOut]:
        return [article_out(v) for v in versions_of(session, article_id)]

    @router.post("/api/knowledge/articles", status_code=201, summary="新建知识（班长、管理员）")
    def new_article(body: ArticleIn, session: SessionDep, who: CurrentActor) -> ArticleOut:
        article = create_article(
            session, ArticleDraft(**body.model_dump()), editor(who), datetime.now(UTC)
        )
        session.commit()
        index.refresh(session, force=True)
        return article_out(versions_of(session, article.id)[-1])

    @router.post(
        "/api/knowledge/articles/{article_id}/versions",
        status_code=201,
        summary="发布新版本（班长、管理员）",
    )
    def new_version(
        article_id: ArticleId, body: ArticleIn, session: SessionDep, who: CurrentActor
    ) -> ArticleOut:
        version = add_version(
            session, article_id, ArticleDraft(**body.model_dump()), editor(who), datetime.now(UTC)
        )
        session.commit()
        index.refresh(session, force=True)
        return article_out(version)

    @router.post("/api/knowledge/articles/{article_id}/retire", summary="下架知识（班长、管理员）")
    def retire(article_id: ArticleId, session: SessionDep, who: CurrentActor) -> dict[str, int]:
        retire_article(session, article_id, editor(who), datetime.now(UTC))
        session.commit()
        index.refresh(session, force=True)
        return {"retired": article_id}

    return router
