"""Chinese search over the catalogue: jieba splits names and keywords into words, each
version stores its words as " name words | other words " (search_text), and a query
matches whole words, those of the name weighing more.

A plain LIKE over the name would miss 「办营业执照」 for 「个体工商户设立登记（营业执照）」
and would rank nothing; words work the same on SQLite and PostgreSQL, and the catalogue of a
city (a few thousand published guides) ranks in memory in milliseconds.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

jieba.setLogLevel(logging.WARNING)

# Words too common in guides and questions to tell items apart.
STOP_WORDS = frozenset(
    "办理 申请 办 我 要 想 我要 我想 怎么 怎么办 如何 怎样 哪里 需要 什么 的 了 和 与 及 或 在 去 到 给 一个 事项".split()  # noqa: E501
)
# What people type → the words guides use.
SYNONYMS = {
    "社保": ("社会保险", "社会保障"),
    "社保卡": ("社会保障卡",),
    "医保": ("医疗保障", "医疗保险"),
    "公积金": ("住房公积金",),
    "执照": ("营业执照",),
    "开公司": ("企业", "设立"),
    "开店": ("个体工商户", "设立"),
    "报户口": ("户口", "登记"),
    "上户口": ("户口", "登记"),
    "挖路": ("城市道路", "挖掘"),
    "占道": ("占用", "城市道路"),
}
# Domain words jieba's dictionary splits apart.
VOCABULARY = (
    "个体工商户", "营业执照", "社会保障卡", "社保卡", "公章刻制", "发票申领", "出生登记",
    "食品经营", "排水许可", "施工许可", "规划许可", "竣工验收", "一件事", "住房公积金",
    "道路运输", "药品零售", "公共场所", "卫生许可", "不动产", "户籍",
)  # fmt: skip

_ready = threading.Lock()
_loaded = False
_PUNCTUATION = re.compile(r"^[\W_]+$")


def _load() -> None:
    global _loaded
    with _ready:
        if not _loaded:
            for word in (*VOCABULARY, *SYNONYMS):
                jieba.add_word(word)
            _loaded = True


def tokens(text: str) -> list[str]:
    """The distinct search words of `text`, in order, without stop words or punctuation."""
    _load()
    seen: dict[str, None] = {}
    for word in jieba.cut_for_search((text or "").lower()):
        word = word.strip()
        if word and word not in STOP_WORDS and not _PUNCTUATION.match(word):
            seen.setdefault(word, None)
    return list(seen)


def index_text(title: str, *parts: str) -> str:
    """The stored form of the words of a title (an item's name) and of further `parts`:
    padded with spaces so that a query can match whole words with a substring test. The
    title's words come first, before a "|", so that they can weigh more."""
    title_words = tokens(title)
    others = [w for w in tokens(" ".join(p for p in parts if p)) if w not in title_words]
    if not title_words and not others:
        return ""
    return f" {' '.join(title_words)} | {' '.join(others)} "


def query_words(query: str) -> list[str]:
    words = tokens(query)
    for word in list(words):
        words.extend(w for w in SYNONYMS.get(word, ()) if w not in words)
    return words


def score(text: str, words: list[str]) -> int:
    """Longer words say more (营业执照 outweighs 执照), and a word of the title counts twice."""
    title = text.partition(" | ")[0] + " "
    return sum(len(w) * (2 if f" {w} " in title else 1) for w in words if f" {w} " in text)


# Nobody reads past the first few hundred hits; the cap also keeps the ordering query small.
MAX_HITS = 500


def rank(queryset: QuerySet, query: str, *, field: str = "search_text") -> QuerySet:
    """The rows of `queryset` that match any word of `query`, best first (at most MAX_HITS).
    An empty query (or one of stop words only) leaves the queryset as it was."""
    words = query_words(query)
    if not words:
        return queryset
    match = Q()
    for word in words:
        match |= Q(**{f"{field}__contains": f" {word} "})
    scored = [
        (score(text, words), pk) for pk, text in queryset.filter(match).values_list("pk", field)
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    del scored[MAX_HITS:]
    if not scored:
        return queryset.none()
    order = Case(
        *(When(pk=pk, then=Value(i)) for i, (_s, pk) in enumerate(scored)),
        output_field=IntegerField(),
    )
    return queryset.filter(pk__in=[pk for _s, pk in scored]).order_by(order)
