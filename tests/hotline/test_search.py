"""Knowledge-base search: jieba tokens, BM25 over the KnowledgeTerm index, the filters (in
force, status, department), and the same answers on SQLite and PostgreSQL (the suite runs on
both: DATABASE_URL picks the server)."""

from __future__ import annotations

import datetime as dt
import logging
import math

import jieba
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.org.factories import DepartmentFactory
from yimen.hotline import search
from yimen.hotline.choices import ArticleStatus
from yimen.hotline.models import KnowledgeArticle, KnowledgeTerm

from .factories import article

pytestmark = pytest.mark.django_db

STREETLIGHT = {
    "title": "路灯不亮如何报修",
    "questions": "家门口的路灯坏了找谁\n晚上路灯一直不亮",
    "answer": "市政道路路灯由城市管理部门负责维护，可拨打12345热线报修，写明路段和灯杆编号。",
    "tags": "路灯 市政设施",
}
HOUSING_FUND = {
    "title": "住房公积金租房提取",
    "questions": "租房能取公积金吗\n公积金一年能提多少",
    "answer": "无自有住房且租房自住的，可每年提取一次住房公积金支付房租，网上办理，3个工作日到账。",
    "tags": "公积金 提取",
}
NOISE = {
    "title": "夜间施工噪音投诉",
    "questions": "半夜工地还在施工\n晚上施工太吵睡不着",
    "answer": "夜间施工须取得住房城乡建设部门的夜间施工证明，未取得的由生态环境部门查处。",
    "tags": "噪音 施工",
}


def titles(hits) -> list[str]:
    return [h.article.title for h in hits]


# --- tokens ----------------------------------------------------------------------------------


def test_tokens_are_lower_cased_words_without_stop_words_or_punctuation():
    # given a caller's question with punctuation, filler words and latin letters
    text = "请问，我家门口的路灯不亮了怎么办？APP 上能报修吗"
    # when it is tokenised
    found = search.tokens(text)
    # then the words that say something remain, lower-cased
    assert "路灯" in found and "不亮" in found and "app" in found and "报修" in found
    for gone in ("请问", "我", "的", "了", "怎么办", "，", "？", "吗"):
        assert gone not in found


def test_tokens_give_the_words_inside_a_long_word():
    # given a long word of the dictionary
    # when it is tokenised
    found = search.tokens("住房公积金")
    # then a query with only a part of it meets it
    assert "公积金" in found and "住房" in found


def test_tokens_keep_repeats_and_are_cut_to_32_characters():
    assert search.tokens("路灯 路灯") == ["路灯", "路灯"]
    long_word = "a" * 40
    assert search.tokens(long_word) == ["a" * 32]


def test_tokens_of_nothing():
    assert search.tokens("") == [] and search.tokens("，。！") == []


def test_tokens_are_the_same_whatever_surrounds_them():
    # no HMM guessing: a phrase gives the same tokens alone and inside a sentence
    assert set(search.tokens("断缴")) <= set(search.tokens("灵活就业人员社保断缴了能补缴吗"))


def test_jieba_is_loaded_once_and_quietly():
    search.load_dictionary()
    assert jieba.dt.initialized
    assert logging.getLogger("jieba").level >= logging.WARNING


def test_query_terms_add_synonyms_with_less_weight():
    terms = search.query_terms("社保断缴")
    assert terms["社保"] == 1.0
    assert terms["社会保险"] == search.SYNONYM_WEIGHT


def test_query_terms_are_capped_words_first():
    text = "".join(f"{w}，" for w in ("路灯", "公积金", "噪音", "施工", "户口", "医保", "社保"))
    terms = search.query_terms(text * 3 + "甲乙丙丁" * 10)
    assert len(terms) <= search.MAX_QUERY_TERMS
    assert "路灯" in terms


def test_weighted_terms_weigh_the_title_most():
    counts = search.weighted_terms(title="路灯报修", questions="路灯坏了", answer="路灯 维护")
    assert counts["路灯"] == 3 + 2 + 1
    assert counts["维护"] == 1


# --- ranking ----------------------------------------------------------------------------------


def test_the_article_about_it_comes_first_with_its_matched_terms():
    # given three published articles
    light = article(**STREETLIGHT)
    article(**HOUSING_FUND)
    article(**NOISE)
    # when an agent types what the caller says
    hits = search.search("我家门口的路灯坏了，晚上很黑")
    # then the streetlight article comes first, with the words it matched
    assert hits[0].article == light
    assert "路灯" in hits[0].matched
    assert hits[0].score > 0
    assert all(h.article.title != HOUSING_FUND["title"] for h in hits)


def test_a_part_of_a_long_word_finds_it():
    fund = article(**HOUSING_FUND)
    assert titles(search.search("公积金")) == [fund.title]


def test_a_synonym_finds_an_article_that_uses_the_other_word():
    # given an article that says 社会保险 only
    insured = article(
        title="灵活就业人员参加社会保险",
        questions="",
        answer="以个人身份参加企业职工基本养老保险。",
        tags="",
    )
    # when the caller says 社保
    hits = search.search("社保怎么交")
    # then it is found
    assert titles(hits) == [insured.title]


def test_nothing_for_words_that_no_article_has():
    article(**STREETLIGHT)
    assert search.search("量子计算机") == []
    assert search.search("") == []
    assert search.search("，。") == []
    assert search.search("路灯", limit=0) == []


def test_limit():
    for n in range(7):
        article(**{**STREETLIGHT, "title": f"路灯报修{n}号"})
    assert len(search.search("路灯", limit=5)) == 5
    assert len(search.search("路灯", limit=2)) == 2


def _reference_bm25(query: str) -> dict[int, float]:
    """BM25 computed in Python from the index rows (the definition, without shortcuts)."""
    rows = list(KnowledgeTerm.objects.values_list("term", "article_id", "weight"))
    lengths = dict(KnowledgeArticle.objects.filter(length__gt=0).values_list("pk", "length"))
    n, avgdl = len(lengths), sum(lengths.values()) / len(lengths)
    terms = search.query_terms(query)
    df = {t: sum(1 for term, _a, _w in rows if term == t) for t in terms}
    scores: dict[int, float] = {}
    for term, pk, w in rows:
        if term in terms and df[term]:
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5)) * terms[term]
            denominator = w + search.K1 * (1 - search.B + search.B * lengths[pk] / avgdl)
            scores[pk] = scores.get(pk, 0.0) + idf * w * (search.K1 + 1) / denominator
    return scores


@pytest.mark.parametrize("department_filter", [False, True])
def test_scores_are_bm25(department_filter):
    # given a few articles sharing words, all of one department
    department = DepartmentFactory()
    for fields in (STREETLIGHT, HOUSING_FUND, NOISE):
        article(**fields, department=department)
    article(**{**NOISE, "title": "工地施工噪音", "answer": "施工噪音由生态环境部门查处。"})
    query = "晚上工地施工噪音太吵，路灯也不亮"
    expected = _reference_bm25(query)
    # when searched (with the department filter: the joined candidate query)
    hits = search.search(query, limit=10, department=department if department_filter else None)
    # then the scores are BM25's, best first
    assert hits
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.article.pk], rel=1e-3)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    if not department_filter:
        assert len(hits) == len(expected)


def test_common_terms_left_out_of_the_candidates_still_count(monkeypatch):
    # given articles where 施工 is common and 噪音 rare
    noisy = article(**NOISE)
    for n in range(4):
        article(title=f"施工许可{n}", questions="", answer="建筑工程施工许可证核发。", tags="")
    # when the candidates are read from the rarest term only
    monkeypatch.setattr(search, "POSTINGS_BUDGET", 1)
    hits = search.search("施工噪音")
    # then the article is found, scored with both terms
    assert hits[0].article == noisy
    assert {"施工", "噪音"} <= set(hits[0].matched)
    assert hits[0].score == pytest.approx(_reference_bm25("施工噪音")[noisy.pk], rel=1e-3)


def test_a_search_is_a_few_queries():
    for fields in (STREETLIGHT, HOUSING_FUND, NOISE):
        article(**fields)
    search.search("路灯")  # reads the statistics, cached afterwards
    with CaptureQueriesContext(connection) as queries:
        search.search("路灯 公积金 施工 噪音")
    assert len(queries) == 5


# --- what is found ------------------------------------------------------------------------------


def test_only_published_articles_by_default():
    # given an article in each status
    published = article(**STREETLIGHT, status=ArticleStatus.PUBLISHED)
    article(**STREETLIGHT, status=ArticleStatus.DRAFT)
    article(**STREETLIGHT, status=ArticleStatus.PENDING)
    article(**STREETLIGHT, status=ArticleStatus.RETIRED)
    # then only the published one is found, unless other statuses are asked for
    assert [h.article for h in search.search("路灯")] == [published]
    some = search.search("路灯", statuses=(ArticleStatus.DRAFT, ArticleStatus.PENDING))
    assert {h.article.status for h in some} == {ArticleStatus.DRAFT, ArticleStatus.PENDING}


def test_only_articles_in_force():
    # given articles that expired yesterday, expire today, and never expire
    today = timezone.localdate()
    long_ago = timezone.now() - dt.timedelta(days=30)
    article(**STREETLIGHT, valid_until=today - dt.timedelta(days=1), at=long_ago)
    last_day = article(**{**STREETLIGHT, "title": "路灯报修（今日到期）"}, valid_until=today)
    forever = article(**{**STREETLIGHT, "title": "路灯报修（长期有效）"})
    # then the expired one is not found
    assert {h.article for h in search.search("路灯", limit=10)} == {last_day, forever}
    # and a search for a past day still finds it
    yesterday = today - dt.timedelta(days=2)
    assert len(search.search("路灯", limit=10, today=yesterday)) == 3


def test_department_filter():
    ours, theirs = DepartmentFactory(), DepartmentFactory()
    mine = article(**STREETLIGHT, department=ours)
    article(**STREETLIGHT, department=theirs)
    assert [h.article for h in search.search("路灯", department=ours)] == [mine]


def test_department_filter_keeps_articles_that_an_unfiltered_pool_would_miss(monkeypatch):
    # given many better matches in another department
    ours, theirs = DepartmentFactory(), DepartmentFactory()
    for n in range(6):
        article(title=f"路灯报修{n}", questions="路灯", answer="路灯", tags="", department=theirs)
    mine = article(**STREETLIGHT, department=ours)
    monkeypatch.setattr(search, "POOL", 3)
    monkeypatch.setattr(search, "CANDIDATES", 3)
    # then the department's search still finds its article
    assert [h.article for h in search.search("路灯", department=ours)] == [mine]


def test_suggest_is_a_search_of_what_was_typed():
    light = article(**STREETLIGHT)
    article(**HOUSING_FUND)
    article(**NOISE)
    hits = search.suggest("市民来电反映：某某路口路灯坏了三天")
    assert hits[0].article == light
    assert len(search.suggest("路灯 公积金 施工", limit=2)) == 2


def test_statistics_are_cached_for_a_while(monkeypatch):
    article(**STREETLIGHT)
    first = search.stats()
    assert first.articles == 1 and first.average_length > 0
    article(**NOISE)
    assert search.stats() == first  # N and avgdl move slowly: read again after STATS_TTL
    monkeypatch.setattr(search, "STATS_TTL", 0)
    assert search.stats().articles == 2


def test_an_empty_index_is_not_remembered():
    assert search.stats().articles == 0
    article(**STREETLIGHT)
    assert search.stats().articles == 1
    assert search.search("路灯")


def test_document_frequencies_follow_the_writes_of_this_process():
    # given a counted term
    article(**STREETLIGHT)
    assert search.document_frequencies(["路灯"]) == {"路灯": 1}
    # when another article with it is written, its count is forgotten and read again
    article(**{**STREETLIGHT, "title": "路灯报修二"})
    assert search.document_frequencies(["路灯"]) == {"路灯": 2}


def test_a_term_no_article_has_is_counted_every_time():
    # another process may publish an article with it: it must be found at once
    search.document_frequencies(["停水"])
    KnowledgeTerm.objects.create(term="停水", article=article(**NOISE), weight=1)
    assert search.document_frequencies(["停水"]) == {"停水": 1}
