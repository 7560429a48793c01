"""Knowledge search latency: our in-memory index against a plain SQL ILIKE scan, same data.

Generates 10,000 articles into a scratch database of its own (dropped afterwards), builds the
index from it as the desk does, and runs the same mixed queries (words, 简拼, full pinyin,
typos) both ways. Prints p50 / p99 in milliseconds and the ratio of the p99s.

    .venv/bin/python bench/kb_search/run.py [--articles 10000] [--queries 400]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from backend.db import make_engine, make_session_factory
from backend.knowledge.service import KnowledgeSearch
from backend.migrate import migrated_database
from backend.models.knowledge import KnowledgeArticle, KnowledgeVersion
from backend.settings import load_settings

ADMIN_URL = os.environ.get(
    "CC_TEST_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WHO = [
    "职工",
    "退休人员",
    "城乡居民",
    "灵活就业人员",
    "学生儿童",
    "新生儿",
    "外地来京人员",
    "失业人员",
]
TOPICS = [
    "医保报销",
    "门诊报销",
    "住院报销",
    "异地就医备案",
    "医保卡补办",
    "生育津贴",
    "门诊特殊病",
    "慢性病长处方",
    "个人账户",
    "缴费基数",
    "参保登记",
    "转诊转院",
    "药店购药",
    "大病保险",
    "长期护理保险",
    "医疗救助",
]
ASPECTS = ["比例", "流程", "所需材料", "办理时限", "申请条件", "政策解读", "常见问题", "注意事项"]
SENTENCES = [
    "参保人可通过北京医保公共服务平台在线办理。",
    "请携带身份证和社保卡到经办机构窗口办理。",
    "符合条件的费用在定点医疗机构直接结算。",
    "未能直接结算的可申请手工报销，材料齐全的二十个工作日内到账。",
    "具体比例按医院等级和人员类别确定。",
    "如有疑问可拨打医保服务热线咨询。",
    "办理进度可在国家医保服务平台App查询。",
    "代办的需提供代办人有效身份证件。",
    "年度内累计计算起付线和最高支付限额。",
    "政策自发布之日起施行，原规定同时废止。",
]
QUERIES = [
    "ybbx",
    "医保 报销",
    "yibaobaoxiao",
    "医保报消",
    "异地就医",
    "ydjyba",
    "生育津帖",
    "menzhenbaoxiao",
    "医保卡补办材料",
    "长期护理",
    "mztsb",
    "灵活就业 缴费基数",
]


def generate(session: Session, count: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    articles, versions = [], []
    for i in range(1, count + 1):
        title = f"{rng.choice(WHO)}{rng.choice(TOPICS)}{rng.choice(ASPECTS)}"
        if rng.random() < 0.5:
            title += f"（{rng.randint(2015, 2026)}版）"
        body = "".join(rng.sample(SENTENCES, k=rng.randint(3, 6)))
        articles.append(
            {
                "id": i,
                "kind": "policy_qa",
                "status": "active",
                "latest_version": 1,
                "created_by": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
        versions.append(
            {
                "article_id": i,
                "version": 1,
                "title": title,
                "body": body,
                "category": "医保政策",
                "tags": [],
                "valid_from": date(2026, 1, 1),
                "valid_until": None,
                "created_by": "bench",
                "created_at": now,
            }
        )
    session.execute(insert(KnowledgeArticle), articles)
    session.execute(insert(KnowledgeVersion), versions)
    session.commit()


def measure(run: Callable[[str], object], queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        start = time.perf_counter()
        run(query)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(20261125)
    name = f"cc_bench_kb_{uuid.uuid4().hex[:8]}"
    with migrated_database(ADMIN_URL, name) as url:
        settings = load_settings(database_url=url)
        engine = make_engine(settings)
        with make_session_factory(engine)() as session:
            generate(session, args.articles, rng)
            search = KnowledgeSearch()
            started = time.perf_counter()
            search.refresh(session, force=True)
            built = time.perf_counter() - started
            today = date(2026, 11, 25)
            queries = [rng.choice(QUERIES) for _ in range(args.queries)]
            search.search(session, "预热", today=today)  # first-use costs are not latency

            def ilike(query: str) -> object:
                pattern = f"%{query}%"
                return session.execute(
                    text(
                        "SELECT v.article_id, v.title FROM knowledge_versions v "
                        "JOIN knowledge_articles a ON a.id = v.article_id "
                        "WHERE a.status = 'active' AND (v.title ILIKE :p OR v.body ILIKE :p) "
                        "ORDER BY v.title ILIKE :p DESC LIMIT 10"
                    ),
                    {"p": pattern},
                ).all()

            ours = measure(lambda q: search.search(session, q, today=today), queries)
            baseline = measure(ilike, queries)
        engine.dispose()

    print(f"articles: {args.articles}, queries: {len(queries)}, index built in {built:.1f} s")
    print(f"index search : p50 {statistics.median(ours):7.2f} ms   p99 {p99(ours):7.2f} ms")
    print(f"SQL ILIKE    : p50 {statistics.median(baseline):7.2f} ms   p99 {p99(baseline):7.2f} ms")
    print(f"p99 ratio (ILIKE / index): {p99(baseline) / p99(ours):.1f}x")
    print("note: ILIKE finds nothing for pinyin, 简拼 or typo queries; the index does.")


if __name__ == "__main__":
    main()
