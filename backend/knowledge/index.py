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

import heapq
import html
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import chain
from operator import itemgetter

from rapidfuzz import fuzz
from rapidfuzz.distance import ScoreAlignment

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
    """Postings are plain dicts and sets of version ids, so that a query is mostly C-level set
    and counter work; highlights are worked out only for the hits returned."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}  # by version id
        self._by_article: dict[int, set[int]] = defaultdict(set)
        self._words: dict[str, dict[int, float]] = defaultdict(dict)
        self._grams: dict[str, set[int]] = defaultdict(set)
        self._title_words: dict[str, set[int]] = defaultdict(set)
        self._terms_of: dict[int, tuple[list[str], list[str]]] = {}
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
            word_terms, gram_terms = self._terms_of.pop(version_id, ([], []))
            for term in word_terms:
                posting = self._words.get(term)
                if posting is not None:
                    posting.pop(version_id, None)
                    if not posting:
                        del self._words[term]
                titled = self._title_words.get(term)
                if titled is not None:
                    titled.discard(version_id)
                    if not titled:
                        del self._title_words[term]
            for term in gram_terms:
                grams = self._grams.get(term)
                if grams is not None:
                    grams.discard(version_id)
                    if not grams:
                        del self._grams[term]
            del self._entries[version_id]
        self._generation += 1

    def _add(self, doc: Doc) -> None:
        weights: dict[str, float] = defaultdict(float)
        body_counts: dict[str, int] = defaultdict(int)
        for word in words(doc.body, hmm=False):
            body_counts[word] += 1
        for word, count in body_counts.items():
            weights[word] += BODY * min(count, 3) / 3
        for word in words(doc.category):
            weights[word] = max(weights[word], CATEGORY)
        for tag in doc.tags:
            for word in {*words(tag), normalize(tag)}:
                weights[word] = max(weights[word], TAGS)
        for word in words(doc.title):
            weights[word] = max(weights[word], TITLE)
        pinyin = full_pinyin(doc.title)
        letters = initials(doc.title)
        grams = {"g:" + g for g in ngrams(doc.title + "".join(doc.tags), 2)}
        grams |= {"p:" + g for g in ngrams(pinyin.letters, 3)}
        grams |= {"i:" + g for g in ngrams(letters.letters, 2)}
        vid = doc.version_id
        for word, weight in weights.items():
            self._words[word][vid] = weight
            if weight >= TITLE:
                self._title_words[word].add(vid)
        for gram in grams:
            self._grams[gram].add(vid)
        self._terms_of[vid] = (list(weights), list(grams))
        self._entries[vid] = _Entry(doc, normalize(doc.title), pinyin, letters, normalize(doc.body))
        self._by_article[doc.article_id].add(vid)

    def _served_versions(self, today: date) -> frozenset[int]:
        if self._served is None or self._served[:2] != (today, self._generation):
            current = current_versions((e.doc for e in self._entries.values()), today)
            served = frozenset(d.version_id for d in current.values())
            self._served = (today, self._generation, served)
        return self._served[2]

    # Searching ---------------------------------------------------------------------------

    def search(self, query: str, *, today: date, limit: int = 10) -> list[Hit]:
        query = normalize(query).strip()
        if not query:
            return []
        served = self._served_versions(today)
        scores: dict[int, float] = defaultdict(float)
        query_words = list(dict.fromkeys(words(query)))
        self._match_words(query_words, scores)
        letters = query_letters(query)
        if letters is not None:
            self._match_spelling(letters, "p:", 3, scores, limit)
            self._match_spelling(letters, "i:", 2, scores, limit)
        if has_han(query):
            # The query's own pinyin: a homophone typo (报消 for 报销) still spells the same.
            self._match_spelling(full_pinyin(query).letters, "p:", 3, scores, 0)
            self._match_fuzzy(query, scores)
        for vid in scores.keys() - served:
            del scores[vid]
        # Take the best by score in C, then order those few by the full key (ties go to the
        # shorter title); ties beyond the widened cut are rare and equally good.
        top = heapq.nlargest(limit * 4, scores.items(), key=itemgetter(1))
        entries = self._entries
        top.sort(key=lambda item: (-item[1], len(entries[item[0]].doc.title), item[0]))
        best = [(vid, score) for vid, score in top[:limit] if score > 0]
        return [self._hit(vid, score, query, query_words, letters) for vid, score in best]

    def _idf(self, posting_size: int) -> float:
        return math.log(1.0 + len(self._entries) / (1 + posting_size))

    def _match_words(self, query_words: list[str], scores: dict[int, float]) -> None:
        in_title: list[set[int]] = []
        for word in query_words:
            posting = self._words.get(word)
            if not posting:
                in_title.append(set())
                continue
            idf = self._idf(len(posting))
            for vid, weight in posting.items():
                scores[vid] += weight * idf
            in_title.append(self._title_words.get(word, set()))
        if len(query_words) > 1:
            for vid in set.intersection(*in_title):
                scores[vid] += ALL_WORDS_IN_TITLE

    def _grams_of(self, prefix: str, letters: str, n: int) -> list[set[int]]:
        return [self._grams.get(prefix + g, set()) for g in ngrams(letters, n)]

    def _match_spelling(
        self, letters: str, prefix: str, n: int, scores: dict[int, float], fuzzy_below: int
    ) -> None:
        """Titles whose pinyin ("p:") or initials ("i:") contain ``letters``; when fewer than
        ``fuzzy_below`` do, titles that nearly contain them (a mistyped letter)."""
        postings = sorted(self._grams_of(prefix, letters, n), key=len)
        if not postings:
            return
        exact = set.intersection(*postings) if postings[0] else set()
        found = 0
        for vid in exact:
            bonus = _spelling_score(letters, self._spelled(vid, prefix))
            if bonus:
                scores[vid] += bonus
                found += 1
        if found >= fuzzy_below or len(letters) < 5:
            return  # short spellings match too much by accident to be forgiven typos
        counts = Counter(chain.from_iterable(postings))
        needed = math.ceil(len(postings) * 0.6)
        for vid, count in counts.most_common(MAX_FUZZY_CANDIDATES):
            if count < needed:
                break
            if vid not in exact:
                alignment = _align(letters, self._spelled(vid, prefix).letters, 85.0)
                if alignment is not None:
                    scores[vid] += PINYIN_MATCH * 0.8 * alignment.score / 100

    def _spelled(self, vid: int, prefix: str) -> Spelled:
        entry = self._entries[vid]
        return entry.title_initials if prefix == "i:" else entry.title_pinyin

    def _match_fuzzy(self, query: str, scores: dict[int, float]) -> None:
        postings = self._grams_of("g:", query, 2)
        if not postings:
            return
        counts = Counter(chain.from_iterable(postings))
        needed = max(1, math.ceil(len(postings) * 0.5))
        compact = "".join(query.split())
        for vid, count in counts.most_common(MAX_FUZZY_CANDIDATES):
            if count < needed:
                break
            alignment = _align(compact, self._entries[vid].title_norm, FUZZY_MIN)
            if alignment is not None:
                scores[vid] += FUZZY_MATCH * alignment.score / 100

    # Results -----------------------------------------------------------------------------

    def _hit(
        self, vid: int, score: float, query: str, query_words: list[str], letters: str | None
    ) -> Hit:
        entry = self._entries[vid]
        doc = entry.doc
        how: set[str] = set()
        spans = _find_all(entry.title_norm, query_words)
        if any(vid in self._words.get(w, ()) for w in query_words):
            how.add("word")
        spellings = [(letters, "initials", entry.title_initials)] if letters else []
        spellings.append((letters or full_pinyin(query).letters, "pinyin", entry.title_pinyin))
        for text, name, spelled in spellings:
            if not text:
                continue
            at = spelled.letters.find(text)
            if at >= 0:
                how.add(name)
                spans.append(spelled.span(at, at + len(text)))
            elif len(text) >= 5 and (near := _align(text, spelled.letters, 85.0)) is not None:
                how.add(name + "~")
                spans.append(spelled.span(near.dest_start, near.dest_end))
        if has_han(query):
            near = _align("".join(query.split()), entry.title_norm, FUZZY_MIN)
            if near is not None:
                how.add("fuzzy")
                spans.append((near.dest_start, near.dest_end))
        return Hit(
            article_id=doc.article_id,
            version=doc.version,
            title=doc.title,
            category=doc.category,
            kind=doc.kind,
            score=round(score, 3),
            title_html=_mark(doc.title, spans),
            snippet_html=_snippet(doc.body, entry.body_norm, query_words),
            matched_by=tuple(sorted(how)),
        )


def _spelling_score(letters: str, spelled: Spelled) -> float:
    at = spelled.letters.find(letters)
    if at < 0:
        return 0.0
    coverage = len(letters) / max(len(spelled.letters), 1)
    return PINYIN_MATCH * (0.5 + coverage) + (1.0 if at == 0 else 0.5)


def _align(needle: str, haystack: str, cutoff: float) -> ScoreAlignment | None:
    alignment = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=cutoff)
    if alignment is None or alignment.score < cutoff or alignment.dest_end <= alignment.dest_start:
        return None
    return alignment


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
