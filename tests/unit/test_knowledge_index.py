"""The knowledge search index: words, 简拼, full pinyin, typos, highlights and versions."""

from __future__ import annotations

from datetime import date

import pytest

from backend.knowledge.index import Doc, SearchIndex, current_versions
from backend.knowledge.text import full_pinyin, initials

TODAY = date(2026, 11, 25)
TITLES = [
    "医保报销怎么办理",
    "门诊费用医保报销比例",
    "医保卡丢失补办",
    "异地就医备案流程",
    "生育保险待遇申领",
    "报销材料清单",
    "灵活就业人员参保缴费",
]


def doc(article_id: int, title: str, version: int = 1, **extra: object) -> Doc:
    body = extra.pop("body", f"{title}。请携带社保卡到经办机构办理，详情咨询12393。")
    return Doc(
        version_id=article_id * 100 + version,
        article_id=article_id,
        version=version,
        title=title,
        body=str(body),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    built = SearchIndex()
    for article_id, title in enumerate(TITLES, start=1):
        built.put_article(article_id, [doc(article_id, title)])
    return built


@pytest.mark.parametrize(
    "query",
    ["ybbx", "医保 报销", "yibaobaoxiao", "医保报消", "医保报锁", "yibaobaoxaio", "ＹＢＢＸ"],
)
def test_the_reimbursement_article_comes_first(index: SearchIndex, query: str) -> None:
    hits = index.search(query, today=TODAY)
    assert hits[0].title == "医保报销怎么办理", [(h.title, h.score) for h in hits]


def test_other_plausible_articles_follow(index: SearchIndex) -> None:
    titles = [h.title for h in index.search("医保 报销", today=TODAY)]
    assert titles[:2] == ["医保报销怎么办理", "门诊费用医保报销比例"]
    assert "报销材料清单" in titles and "医保卡丢失补办" in titles
    assert "灵活就业人员参保缴费" not in titles


def test_matches_are_highlighted_in_title_and_snippet(index: SearchIndex) -> None:
    hit = index.search("ybbx", today=TODAY)[0]
    assert hit.title_html == "<mark>医保报销</mark>怎么办理"
    assert "initials" in hit.matched_by
    word_hit = index.search("异地就医", today=TODAY)[0]
    assert word_hit.title_html.startswith("<mark>异地就医</mark>")
    assert "<mark>" in word_hit.snippet_html


def test_markup_in_articles_is_escaped() -> None:
    built = SearchIndex()
    built.put_article(1, [doc(1, "报销<script>说明", body="<b>报销</b>材料")])
    hit = built.search("报销", today=TODAY)[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "&lt;b&gt;<mark>报销</mark>" in hit.snippet_html


def test_only_the_version_in_force_is_served() -> None:
    old = doc(1, "门诊报销比例（旧）", version=1, valid_until=date(2026, 12, 31))
    new = doc(1, "门诊报销比例（新）", version=2, valid_from=date(2027, 1, 1))
    assert current_versions([old, new], TODAY)[1].version == 1
    assert current_versions([old, new], date(2027, 1, 2))[1].version == 2
    lapsed = doc(2, "临时政策", valid_until=date(2026, 1, 1))
    assert 2 not in current_versions([lapsed], TODAY)
    built = SearchIndex()
    built.put_article(1, [old, new])
    assert [h.version for h in built.search("门诊报销", today=TODAY)] == [1]
    assert [h.version for h in built.search("门诊报销", today=date(2027, 3, 1))] == [2]
    built.remove_article(1)
    assert built.search("门诊报销", today=TODAY) == [] and len(built) == 0


def test_pinyin_keeps_track_of_which_character_spelled_what() -> None:
    spelled = full_pinyin("医保A卡")
    assert spelled.letters == "yibaoaka"
    assert spelled.span(5, 8) == (2, 4)
    assert initials("医保报销").letters == "ybbx"
