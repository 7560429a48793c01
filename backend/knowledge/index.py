"""The in-memory search index of the knowledge base, pure (no database).

Agents search while the citizen is talking, so a query must answer in milliseconds over tens of
thousands of articles. Every version of every active article is indexed under:

- jieba words of title, tags, category and body (weighted in that order, scaled by IDF);
- the title's full pinyin and its initials (简拼), through letter bigrams/trigrams, verified by
  substring match so that "ybbx" and "yibaobaoxiao" find 医保报销;
- character bigrams of title and tags, the fallback for a mistyped character, ranked with
  rapidfuzz; a query in Han characters is also matched by its pinyin, which forgives the
  commonest typo of all, a homophone (医保报消).

Only the version in force on the search day is served (see ``current_versions``).
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from backend.knowledge.text import (
    Spelled,
    full_pinyin,
    has_han,
    initials,
    ngrams,
    normalize,
    query_letters,
    words,
)

TITLE, TAGS, CATEGORY, BODY = 3.0, 2.0, 1.0, 0.6
PINYIN_MATCH = 6.0  # a pinyin or initials query that spells part of the title
FUZZY_MATCH = 4.0  # scaled by rapidfuzz similarity
FUZZY_MIN = 70.0  # below this similarity a title is not a plausible typo of the query
ALL_WORDS_IN_TITLE = 4.0
MAX_FUZZY_CANDIDATES = 300
SNIPPET_CHARS = 60


@dataclass(frozen=True)
class Doc:
    version_id: int
    article_id: int
    version: int
    title: str
    body: str
    category: str = ""
    tags: tuple[str, ...] = ()
    kind: str = "policy_qa"
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Hit:
    article_id: int
    version: int
    title: str
    category: str
    kind: str
    score: float
    title_html: str
    snippet_html: str
    matched_by: tuple[str, ...]


@dataclass
class _Entry:
    doc: Doc
    title_norm: str
    title_pinyin: Spelled
    title_initials: Spelled
    body_norm: str


@dataclass
class _Scored:
    score: float = 0.0
    how: set[str] = field(default_factory=set)
    title_spans: list[tuple[int, int]] = field(default_factory=list)
    title_words: set[str] = field(default_factory=set)


def current_versions(docs: Iterable[Doc], today: date) -> dict[int, Doc]:
    """Per article, the newest version in force today; none when that version has lapsed.

    A version that starts later does not hide the one in force now; once it starts it
    replaces it, and if it then ends the article is not served (its rule has lapsed).
    """
    newest: dict[int, Doc] = {}
    for doc in docs:
        if doc.valid_from is not None and doc.valid_from > today:
            continue
        seen = newest.get(doc.article_id)
        if seen is None or doc.version > seen.version:
            newest[doc.article_id] = doc
    return {
        article: doc
        for article, doc in newest.items()
        if doc.valid_until is None or doc.valid_until >= today
    }


class SearchIndex:
    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}  # by version id
        self._by_article: dict[int, set[int]] = defaultdict(set)
        self._postings: dict[str, dict[int, float]] = defaultdict(dict)
        self._terms_of: dict[int, list[str]] = {}
        self._served: tuple[date, int, frozenset[int]] | None = None
        self._generation = 0

    def __len__(self) -> int:
        return len(self._by_article)

    # Building ----------------------------------------------------------------------------

    def put_article(self, article_id: int, versions: Iterable[Doc]) -> None:
        """Replace everything indexed for an article by these versions."""
        self.remove_article(article_id)
        for doc in versions:
            self._add(doc)
        self._generation += 1

    def remove_article(self, article_id: int) -> None:
        for version_id in self._by_article.pop(article_id, set()):
            for term in self._terms_of.pop(version_id, []):
                posting = self._postings.get(term)
                if posting is not None:
                    posting.pop(version_id, None)
                    if not posting:
                        del self._postings[term]
            del self._entries[version_id]
        self._generation += 1

    def _add(self, doc: Doc) -> None:
        weights: dict[str, float] = defaultdict(float)
        body_counts: dict[str, int] = defaultdict(int)
        for word in words(doc.body):
            body_counts[word] += 1
        for word, count in body_counts.items():
            weights["w:" + word] += BODY * min(count, 3) / 3
        for word in words(doc.category):
            weights["w:" + word] = max(weights["w:" + word], CATEGORY)
        for tag in doc.tags:
            for word in {*words(tag), normalize(tag)}:
                weights["w:" + word] = max(weights["w:" + word], TAGS)
        for word in words(doc.title):
            weights["w:" + word] = max(weights["w:" + word], TITLE)
        for gram in ngrams(doc.title + "".join(doc.tags), 2):
            weights["g:" + gram] = 1.0
        pinyin = full_pinyin(doc.title)
        letters = initials(doc.title)
        for gram in ngrams(pinyin.letters, 3):
            weights["p:" + gram] = 1.0
        for gram in ngrams(letters.letters, 2):
            weights["i:" + gram] = 1.0
        for term, weight in weights.items():
            self._postings[term][doc.version_id] = weight
        self._terms_of[doc.version_id] = list(weights)
        self._entries[doc.version_id] = _Entry(
            doc, normalize(doc.title), pinyin, letters, normalize(doc.body)
        )
        self._by_article[doc.article_id].add(doc.version_id)

    def _served_versions(self, today: date) -> frozenset[int]:
        if self._served is None or self._served[:2] != (today, self._generation):
            current = current_versions((e.doc for e in self._entries.values()), today)
            self._served = (
                today,
                self._generation,
                frozenset(d.version_id for d in current.values()),
            )
        return self._served[2]

    # Searching ---------------------------------------------------------------------------

    def search(self, query: str, *, today: date, limit: int = 10) -> list[Hit]:
        query = normalize(query).strip()
        if not query:
            return []
        served = self._served_versions(today)
        scored: dict[int, _Scored] = defaultdict(_Scored)
        letters = query_letters(query)
        if letters is not None:
            self._match_letters(letters, served, scored)
        query_words = words(query)
        self._match_words(query_words, served, scored)
        if has_han(query):
            self._match_letters(full_pinyin(query).letters, served, scored, initials_too=False)
            self._match_fuzzy(query, served, scored)
        ranked = sorted(
            scored.items(),
            key=lambda item: (-item[1].score, len(self._entries[item[0]].doc.title), item[0]),
        )
        return [self._hit(vid, s, query_words) for vid, s in ranked[:limit] if s.score > 0]

    def _df_weight(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        return math.log(1.0 + len(self._entries) / (1 + df)) if df else 0.0

    def _match_words(
        self, query_words: list[str], served: frozenset[int], scored: dict[int, _Scored]
    ) -> None:
        distinct = list(dict.fromkeys(query_words))
        for word in distinct:
            term = "w:" + word
            idf = self._df_weight(term)
            for version_id, weight in self._postings.get(term, {}).items():
                if version_id in served:
                    entry = scored[version_id]
                    entry.score += weight * idf
                    entry.how.add("word")
                    if weight >= TITLE:
                        entry.title_words.add(word)
        if len(distinct) > 1:
            for entry in scored.values():
                if len(entry.title_words) == len(distinct):
                    entry.score += ALL_WORDS_IN_TITLE

    def _match_letters(
        self,
        letters: str,
        served: frozenset[int],
        scored: dict[int, _Scored],
        *,
        initials_too: bool = True,
    ) -> None:
        kinds: list[tuple[str, int, str]] = [("p:", 3, "pinyin")]
        if initials_too:
            kinds.append(("i:", 2, "initials"))
        for prefix, n, how in kinds:
            grams = ngrams(letters, n)
            if not grams:
                continue
            counts: dict[int, int] = defaultdict(int)
            for gram in grams:
                for version_id in self._postings.get(prefix + gram, ()):
                    counts[version_id] += 1
            # Exact spellings contain every gram; typos keep most of them.
            needed = max(1, math.ceil(len(grams) * 0.6))
            for version_id, count in counts.items():
                if count < needed or version_id not in served:
                    continue
                entry = self._entries[version_id]
                spelled = entry.title_initials if prefix == "i:" else entry.title_pinyin
                self._score_spelling(letters, spelled, how, scored[version_id])

    @staticmethod
    def _score_spelling(letters: str, spelled: Spelled, how: str, target: _Scored) -> None:
        at = spelled.letters.find(letters)
        if at >= 0:
            coverage = len(letters) / max(len(spelled.letters), 1)
            early = 1.0 if at == 0 else 0.5
            target.score += PINYIN_MATCH * (0.5 + coverage) + early
            target.how.add(how)
            target.title_spans.append(spelled.span(at, at + len(letters)))
            return
        if len(letters) < 5:
            return  # short spellings match too much by accident to be forgiven typos
        alignment = fuzz.partial_ratio_alignment(letters, spelled.letters)
        if (
            alignment is not None
            and alignment.score >= 85
            and alignment.dest_end > alignment.dest_start
        ):
            target.score += PINYIN_MATCH * (alignment.score / 100) * 0.8
            target.how.add(how + "~")
            target.title_spans.append(spelled.span(alignment.dest_start, alignment.dest_end))

    def _match_fuzzy(self, query: str, served: frozenset[int], scored: dict[int, _Scored]) -> None:
        grams = ngrams(query, 2)
        if not grams:
            return
        counts: dict[int, int] = defaultdict(int)
        for gram in grams:
            for version_id in self._postings.get("g:" + gram, ()):
                counts[version_id] += 1
        needed = max(1, math.ceil(len(grams) * 0.5))
        candidates = sorted(
            (vid for vid, count in counts.items() if count >= needed and vid in served),
            key=lambda vid: -counts[vid],
        )[:MAX_FUZZY_CANDIDATES]
        compact = "".join(query.split())
        for version_id in candidates:
            title = self._entries[version_id].title_norm
            alignment = fuzz.partial_ratio_alignment(compact, title)
            if alignment is None or alignment.score < FUZZY_MIN:
                continue
            target = scored[version_id]
            target.score += FUZZY_MATCH * alignment.score / 100
            target.how.add("fuzzy")
            target.title_spans.append((alignment.dest_start, alignment.dest_end))

    # Results -----------------------------------------------------------------------------

    def _hit(self, version_id: int, scored: _Scored, query_words: list[str]) -> Hit:
        entry = self._entries[version_id]
        doc = entry.doc
        spans = list(scored.title_spans)
        spans += _find_all(entry.title_norm, query_words)
        return Hit(
            article_id=doc.article_id,
            version=doc.version,
            title=doc.title,
            category=doc.category,
            kind=doc.kind,
            score=round(scored.score, 3),
            title_html=_mark(doc.title, spans),
            snippet_html=_snippet(doc.body, entry.body_norm, query_words),
            matched_by=tuple(sorted(scored.how)),
        )


def _find_all(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for needle in set(needles):
        start = text.find(needle)
        while needle and start >= 0:
            spans.append((start, start + len(needle)))
            start = text.find(needle, start + len(needle))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], offset: int = 0) -> str:
    """HTML-escaped text with <mark> around the spans (given in ``text`` + ``offset`` terms)."""
    out, pos = [], 0
    for start, end in _merge([(s - offset, e - offset) for s, e in spans]):
        start, end = max(start, 0), min(end, len(text))
        if start >= end or start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _snippet(body: str, body_norm: str, query_words: list[str]) -> str:
    spans = _find_all(body_norm, query_words)
    if not spans:
        return html.escape(body[:SNIPPET_CHARS]) + ("…" if len(body) > SNIPPET_CHARS else "")
    first = min(start for start, _ in spans)
    begin = max(0, first - SNIPPET_CHARS // 3)
    end = min(len(body), begin + SNIPPET_CHARS)
    inside = [(s, e) for s, e in spans if s >= begin and e <= end]
    text = _mark(body[begin:end], inside, offset=begin)
    return ("…" if begin else "") + text + ("…" if end < len(body) else "")
