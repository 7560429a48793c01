"""Text pieces the search index is made of: jieba words, pinyin with character offsets, n-grams.

jieba logs "Building prefix dict..." to stderr on first use; ``quiet_tokenizer`` builds a
tokenizer with its logger turned down, once per process.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba
from pypinyin import Style, lazy_pinyin

# Words that carry no meaning in a question ("怎么", "吗") would rank every Q&A alike.
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 是 在 和 与 及 或 我 你 他 她 它 们 怎么 怎样 如何 什么 哪些 哪里 多少 "  # noqa: SIM905
    "可以 能否 能 要 需要 有 没有 一个 这个 那个 请问 办理 问 一下".split()
)
_WORD_CHARS = re.compile(r"\w", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def quiet_tokenizer() -> jieba.Tokenizer:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def normalize(text: str) -> str:
    """Full-width to half-width and lower case, so "ＹＢＢＸ" and "ybbx" are one query."""
    return unicodedata.normalize("NFKC", text).lower()


def words(text: str, *, hmm: bool = True) -> list[str]:
    """Search-mode jieba words (long words and their parts), without stopwords and punctuation.

    ``hmm=False`` skips guessing unknown words: much faster, for long bodies.
    """
    out = []
    for word in quiet_tokenizer().cut_for_search(normalize(text), HMM=hmm):
        word = word.strip()
        if word and word not in STOPWORDS and _WORD_CHARS.search(word):
            out.append(word)
    return out


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def ngrams(text: str, n: int) -> set[str]:
    compact = "".join(ch for ch in normalize(text) if _WORD_CHARS.match(ch))
    if len(compact) < n:
        return {compact} if compact else set()
    return {compact[i : i + n] for i in range(len(compact) - n + 1)}


def _one_item_per_char(chunk: str) -> Any:
    # pypinyin accepts a list here (its stubs say str) and then yields one item per element.
    return list(chunk)


@dataclass(frozen=True)
class Spelled:
    """A text spelled in letters, with where each letter came from in the original text.

    ``letters[i]`` was produced by character ``origin[i]`` of the text; characters that are
    neither Han nor letters/digits (spaces, punctuation) produce nothing.
    """

    letters: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The character range of the text that produced letters[start:end]."""
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=200_000)
def _syllables(word: str) -> tuple[str, ...]:
    # Per jieba word, so that polyphones read in context (长期 chang, 银行 hang) and the
    # domain's small vocabulary is spelled once, not once per title.
    # errors=list keeps one item per non-Han character, so items align with characters.
    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors=_one_item_per_char))[: len(word)]


def _spell(text: str, *, first_letters: bool) -> Spelled:
    text = normalize(text)
    letters: list[str] = []
    origin: list[int] = []
    index = 0
    for word in quiet_tokenizer().cut(text, HMM=False):
        for item in _syllables(word):
            piece = "".join(ch for ch in item if ch.isalnum())
            piece = piece[:1] if first_letters else piece
            letters.append(piece)
            origin.extend([index] * len(piece))
            index += 1
    return Spelled("".join(letters), tuple(origin))


def full_pinyin(text: str) -> Spelled:
    """医保报销 → yibaobaoxiao."""
    return _spell(text, first_letters=False)


def initials(text: str) -> Spelled:
    """医保报销 → ybbx (简拼)."""
    return _spell(text, first_letters=True)


def query_letters(query: str) -> str | None:
    """The query as letters if it is typed in letters only ("ybbx", "yi bao"), else None."""
    compact = "".join(normalize(query).split())
    return compact if compact and compact.isascii() and compact.isalpha() else None
