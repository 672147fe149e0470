"""Chinese search over the knowledge base: jieba tokens and BM25 over the KnowledgeTerm index.

An article is indexed as its tokens with their weighted counts (yimen.hotline.knowledge
writes the rows: a token of the title counts 3 times, of a question variant or a tag twice,
of the answer once) and its `length`, the sum of those weights. A query is ranked with
Okapi BM25 (k1 = 1.2, b = 0.75):

    score(article) = Σ over the query's terms t of
        idf(t) · w(t) · (k1 + 1) / (w(t) + k1 · (1 − b + b · length / avgdl))
    idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))

where N is the number of indexed articles, avgdl their average length and df(t) the number
of them that contain t. Everything is plain SQL over two indexed tables, so it runs the same
on SQLite and PostgreSQL; one search is five short queries:

1. the document frequencies of the query's terms: one grouped count over the (term,
   article, weight) index (each term's count is remembered for STATS_TTL seconds: 办理 or
   佛山 have tens of thousands of rows to count and come back in query after query);
2. the pool of candidates: one grouped query over the postings of the query's rarer terms
   only (the rarest first, until they add up to POSTINGS_BUDGET rows), an index-only scan
   summed and ordered in the database. Without a department it reads the postings alone,
   scored with BM25's term saturation at the average length (the length normalisation
   needs the article row, and joining thousands of postings to their articles is what
   makes a search slow), POOL rows; with a department (a narrow filter: an unfiltered pool
   could hold none of its articles) it joins the articles and filters in the query;
3. the pool's articles that are in scope (status, in force, department), with their
   lengths: a primary-key lookup;
4. the postings of every query term for those candidates: exact BM25, and the matched
   terms;
5. the articles of the hits.

The terms left out of step 2 are the most common of the query (the smallest idf): they
reorder the candidates in step 4 but rarely bring a better one, and leaving them out keeps a
query such as 「办理需要什么材料」 from reading half the index. N and avgdl change slowly and
are cached for STATS_TTL seconds too; a write in this process forgets the document
frequencies of the article's terms at once (yimen.hotline.knowledge.reindex), and a term no
article has is never remembered, so an article published by another process is found at
once too (its idf is at most STATS_TTL seconds old).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jieba
from django.db.models import Avg, Count, FloatField, Q, Sum, Value
from django.db.models.expressions import Case, ExpressionWrapper, When
from django.db.models.functions import Cast
from django.utils import timezone

from .choices import ArticleStatus
from .models import KnowledgeArticle, KnowledgeTerm

# jieba reports its dictionary loading at INFO on its own handler; keep it quiet.
jieba.setLogLevel(logging.WARNING)

K1 = 1.2
B = 0.75
MAX_TERM_LENGTH = 32  # KnowledgeTerm.term's max_length
MAX_QUERY_TERMS = 32  # distinct terms of a query that are looked up (a long typed text)
POSTINGS_BUDGET = 5_000  # postings read to find the candidates (step 2)
POOL = 200  # candidates of step 2 without a filter, all rescored in step 3
CANDIDATES = 100  # candidates of step 2 with a department filter (exact BM25 already)
STATS_TTL = 60.0  # seconds N and avgdl are reused
SYNONYM_WEIGHT = 0.6  # a term added by a synonym weighs less than one the caller said

# Words that say nothing about what an article is about: function words, and the phrases of
# a call ("请问", "怎么办") that every question carries.
STOP_WORDS = frozenset(
    """
    的 了 吗 呢 吧 啊 呀 哦 嘛 么 着 过 地 得 之 其 而 且 与 及 和 跟 同 或 或者 并 并且 以及
    我 我们 你 你们 您 他 她 它 他们 她们 它们 咱 咱们 自己 本人 大家 人家
    是 在 有 没 没有 不 也 都 就 还 又 再 才 很 太 更 最 把 被 让 给 对 从 向 往 于 为 为了
    因为 所以 如果 但是 但 可是 然后 那么 这样 那样 这个 那个 这些 那些 这 那 这里 那里
    哪 哪里 哪儿 哪个 哪些 谁 什么 怎么 怎么办 怎样 如何 为什么 多少 几 是否 是不是 能否
    能不能 可不可以 可以 可 能 会 要 想 需 需要 应该 应当 得到 一下 一个 一些 有没有 有些
    请问 请 你好 您好 谢谢 麻烦 咨询 问 问一下 想问 想问一下 了解 知道 告诉 一般 目前 现在
    已经 时候 个 等 等等 啥 咋 咋办 呗 嗯 喂 哈 找 去 来 到 上 弄 搞
    """.split()
)

# What callers say → the words the articles use (added to a query, weighing less).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "社保": ("社会保险",),
    "社会保险": ("社保",),
    "医保": ("医疗保险", "医疗保障"),
    "医疗保险": ("医保",),
    "公积金": ("住房公积金",),
    "户口": ("户籍",),
    "户籍": ("户口",),
    "身份证": ("居民身份证",),
    "小孩": ("子女", "儿童"),
    "孩子": ("子女", "儿童"),
    "娃": ("子女",),
    "吵": ("噪音",),
    "噪声": ("噪音",),
    "噪音": ("噪声",),
    "工资": ("薪酬", "欠薪"),
    "欠薪": ("工资", "拖欠"),
    "老人": ("老年人",),
    "老年人": ("老人",),
    "违建": ("违法建设", "违章建筑"),
    "违章建筑": ("违法建设", "违建"),
    "补办": ("补领",),
    "补领": ("补办",),
    "开店": ("个体工商户",),
    "电瓶车": ("电动自行车", "电动车"),
    "电动车": ("电动自行车",),
    "停车费": ("停车", "收费"),
    "红绿灯": ("信号灯",),
    "退休金": ("养老金",),
    "养老金": ("退休金",),
}

# Domain words jieba's dictionary lacks (it would split them into single characters).
VOCABULARY = (
    "12345", "断缴", "充电桩", "换领", "网约车", "共享单车", "占道经营", "电动自行车",
    "违法建设", "垃圾分类", "积分入学", "积分制", "人才引进", "维修基金", "灵活就业",
    "退役军人", "异地就医", "新生儿", "粤省事", "粤商通", "佛山通", "一网通办", "跨省通办",
    "不动产登记", "二手房", "信号灯", "下水道", "化粪池", "沙井盖", "井盖", "内涝",
    "学位申请", "小升初", "电梯加装", "加装电梯", "消费维权", "预付卡", "退费", "噪音扰民",
    "装修噪音", "施工噪音", "夜间施工", "油烟扰民", "违规停车", "乱停车", "路灯", "不亮",
)  # fmt: skip
# Dictionary words that cut common phrases in the wrong place (「路灯不亮」 → 路 / 灯不亮).
SPLIT_WORDS = ("灯不亮",)

_PUNCTUATION = re.compile(r"^[\W_]+$")
_loaded = False
_lock = threading.Lock()


def load_dictionary() -> None:
    """Load jieba's dictionary (shipped in the package; nothing is downloaded) and our words,
    once per process. jieba's dictionary is shared with the catalogue's search: one copy in
    memory (≈ 65 MB)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        jieba.initialize()
        for word in VOCABULARY:
            if word not in jieba.dt.FREQ or not jieba.dt.FREQ[word]:
                jieba.add_word(word)
        for word in SPLIT_WORDS:
            jieba.del_word(word)
        _loaded = True


def tokens(text: str) -> list[str]:
    """The search tokens of `text`, in order and with repeats (a count is a weight): jieba's
    search-engine mode (a long word also yields the dictionary words inside it, so 「公积金」
    matches 「住房公积金」), lower-cased, without stop words or punctuation, at most 32
    characters each. No HMM guessing: the same text always gives the same tokens, whatever
    text surrounds it, so a query meets the index."""
    if not text:
        return []
    load_dictionary()
    out = []
    for word in jieba.cut_for_search(text.lower(), HMM=False):
        word = word.strip()
        if not word or word in STOP_WORDS or _PUNCTUATION.match(word):
            continue
        out.append(word[:MAX_TERM_LENGTH])
    return out


def query_terms(query: str) -> dict[str, float]:
    """The distinct terms of a query with their weights (1, or SYNONYM_WEIGHT for a term
    added by a synonym), MAX_QUERY_TERMS at most: words before single characters, then in
    the order typed. (Weighing lone characters less was tried: recall@5 fell by 2 points.)"""
    said = list(dict.fromkeys(tokens(query)))
    said.sort(key=lambda w: len(w) == 1)  # stable: words first, each group as typed
    terms = dict.fromkeys(said[:MAX_QUERY_TERMS], 1.0)
    for word in list(terms):
        for synonym in SYNONYMS.get(word, ()):
            if len(terms) < MAX_QUERY_TERMS:
                terms.setdefault(synonym, SYNONYM_WEIGHT)
    return terms


def weighted_terms(
    *, title: str, questions: str = "", answer: str = "", tags: str = ""
) -> Counter[str]:
    """The index rows of an article: token → weight (title 3, question variants and tags 2,
    answer 1, summed over the occurrences). The article's BM25 length is the sum."""
    counts: Counter[str] = Counter()
    for text, weight in ((title, 3), (questions, 2), (tags, 2), (answer, 1)):
        for token in tokens(text):
            counts[token] += weight
    return counts


# --- corpus statistics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    articles: int  # N: indexed articles
    average_length: float  # avgdl


_stats: tuple[float, Stats] | None = None


def stats() -> Stats:
    """N and avgdl of the index, read at most every STATS_TTL seconds."""
    global _stats
    now = time.monotonic()
    if _stats is not None and now - _stats[0] < STATS_TTL:
        return _stats[1]
    row = KnowledgeArticle.objects.filter(length__gt=0).aggregate(n=Count("pk"), avg=Avg("length"))
    found = Stats(articles=row["n"] or 0, average_length=float(row["avg"] or 0.0))
    if found.articles:  # an empty index is read again: the first article is on its way
        _stats = (now, found)
    return found


def forget_terms(terms: Iterable[str]) -> None:
    """Forget the document frequencies of `terms` (an article with them was re-indexed).
    N and avgdl are left to their STATS_TTL: one article moves them by a hair."""
    for term in terms:
        _df_cache.pop(term, None)


def invalidate() -> None:
    """Forget the cached statistics and document frequencies (after this process changed
    the index)."""
    global _stats
    _stats = None
    _df_cache.clear()


def idf(df: int, articles: int) -> float:
    return math.log(1.0 + (articles - df + 0.5) / (df + 0.5))


_df_cache: dict[str, int] = {}
_df_cached_at = 0.0
DF_CACHE_SIZE = 50_000  # terms remembered (a few MB)


def document_frequencies(terms: Iterable[str]) -> dict[str, int]:
    """df of each term that occurs at all: one grouped count over the term index, for the
    terms not counted in the last STATS_TTL seconds (a common term such as 办理 has tens of
    thousands of rows to count, and comes back in query after query)."""
    global _df_cached_at
    now = time.monotonic()
    if now - _df_cached_at >= STATS_TTL or len(_df_cache) > DF_CACHE_SIZE:
        _df_cache.clear()
        _df_cached_at = now
    terms = list(terms)
    missing = [t for t in terms if t not in _df_cache]
    if missing:
        counted = dict(
            KnowledgeTerm.objects.filter(term__in=missing)
            .values("term")
            .annotate(df=Count("*"))
            .order_by()
            .values_list("term", "df")
        )
        # A term no article has is not remembered: another process may publish one.
        _df_cache.update(counted)
    return {t: _df_cache[t] for t in terms if t in _df_cache}


# --- search -----------------------------------------------------------------------------------


@dataclass
class Hit:
    """One article found: its BM25 score and the query terms it contains."""

    article: KnowledgeArticle
    score: float
    matched: list[str] = field(default_factory=list)


def _in_scope(*, today: dt.date, department, statuses: Sequence[str], prefix: str = "") -> Q:
    q = Q(**{f"{prefix}status__in": list(statuses)}) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": today})
    )
    if department is not None:
        q &= Q(**{f"{prefix}department": department})
    return q


def _candidate_terms(df: dict[str, int]) -> list[str]:
    """The rarest terms, until their postings add up to POSTINGS_BUDGET (at least one)."""
    chosen, total = [], 0
    for term in sorted(df, key=lambda t: (df[t], t)):
        if chosen and total + df[term] > POSTINGS_BUDGET:
            break
        chosen.append(term)
        total += df[term]
    return chosen


def _idf_case(weight_of: dict[str, float], terms: Sequence[str]) -> Case:
    return Case(
        *(When(term=t, then=Value(weight_of[t], output_field=FloatField())) for t in terms),
        default=Value(0.0, output_field=FloatField()),
        output_field=FloatField(),
    )


def _pool_by_postings(weight_of, rare, *, size: int) -> list[int]:
    """Step 2 without a filter: the postings alone (an index-only scan of (term, article,
    weight)), scored with BM25's term saturation but without the length normalisation,
    which needs the article row. Best first."""
    weight = Cast("weight", FloatField())
    contribution = ExpressionWrapper(
        _idf_case(weight_of, rare) * weight * Value(K1 + 1) / (weight + Value(K1)),
        output_field=FloatField(),
    )
    return list(
        KnowledgeTerm.objects.filter(term__in=rare)
        .values("article_id")
        .annotate(score=Sum(contribution))
        .order_by("-score", "-article_id")
        .values_list("article_id", flat=True)[:size]
    )


def _pool_by_join(weight_of, rare, scope: Q, c0: float, c1: float, *, size: int) -> list[int]:
    """Step 2 with the filter in the query (a department's articles are few, so an
    unfiltered pool could hold none of them): postings joined to their articles, exact
    BM25 over the rare terms. Best first."""
    weight = Cast("weight", FloatField())
    length = Cast("article__length", FloatField())
    contribution = ExpressionWrapper(
        _idf_case(weight_of, rare)
        * weight
        * Value(K1 + 1)
        / (weight + Value(c0) + Value(c1) * length),
        output_field=FloatField(),
    )
    return list(
        KnowledgeTerm.objects.filter(scope, term__in=rare)
        .values("article_id")
        .annotate(score=Sum(contribution))
        .order_by("-score", "article_id")
        .values_list("article_id", flat=True)[:size]
    )


def search(
    query: str,
    *,
    limit: int = 5,
    today: dt.date | None = None,
    department=None,
    statuses: Sequence[str] = (ArticleStatus.PUBLISHED,),
) -> list[Hit]:
    """The `limit` best articles for `query` among those of `statuses` in force on `today`
    (valid_until empty or not before it), of `department` when given; best first."""
    if limit < 1:
        return []
    terms = query_terms(query)
    if not terms:
        return []
    corpus = stats()
    df = document_frequencies(terms)
    if not df:
        return []
    # df can exceed a stale N by a few articles; idf stays positive anyway.
    n = max(corpus.articles, max(df.values()))
    avgdl = corpus.average_length or 1.0
    weight_of = {t: idf(df[t], n) * terms[t] for t in df}
    today = today or timezone.localdate()
    # BM25's denominator, k1·(1 − b + b·len/avgdl) + w, as c0 + c1·len + w.
    c0, c1 = K1 * (1 - B), K1 * B / avgdl
    rare = _candidate_terms(df)

    # Step 2: the pool of candidates, then their lengths (and the filter).
    if department is None:
        pool = _pool_by_postings(weight_of, rare, size=max(POOL, limit))
    else:
        scope = _in_scope(today=today, department=department, statuses=statuses, prefix="article__")
        pool = _pool_by_join(weight_of, rare, scope, c0, c1, size=max(CANDIDATES, limit))
    if not pool:
        return []
    scope = _in_scope(today=today, department=department, statuses=statuses)
    length_of = dict(
        KnowledgeArticle.objects.filter(scope, pk__in=pool).values_list("pk", "length")
    )
    pool = [pk for pk in pool if pk in length_of]
    if not pool:
        return []

    # Step 3: rescore the candidates with every term; collect what each one matched.
    scores: dict[int, float] = dict.fromkeys(pool, 0.0)
    matched: dict[int, list[tuple[float, str]]] = {pk: [] for pk in pool}
    postings = KnowledgeTerm.objects.filter(article_id__in=pool, term__in=list(df)).values_list(
        "article_id", "term", "weight"
    )
    for pk, term, weight in postings:
        part = weight_of[term] * weight * (K1 + 1) / (weight + c0 + c1 * length_of[pk])
        scores[pk] += part
        matched[pk].append((part, term))

    # Step 4: the articles of the best.
    best = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    articles = KnowledgeArticle.objects.select_related("department", "category").in_bulk(best)
    hits = []
    for pk in best:
        if pk in articles:
            found = [t for _part, t in sorted(matched[pk], key=lambda m: (-m[0], m[1]))]
            hits.append(Hit(article=articles[pk], score=round(scores[pk], 4), matched=found))
    return hits


def suggest(text: str, *, limit: int = 3, today: dt.date | None = None) -> list[Hit]:
    """Answers for what the agent has typed so far (published and in force): the search of
    that text. A long text is cut to its MAX_QUERY_TERMS first terms by query_terms."""
    return search(text, limit=limit, today=today)
