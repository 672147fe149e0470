"""Chinese search over the catalogue: the words a guide is indexed under, the words a query
asks for, and the order of the hits."""

import pytest

from yimen.catalog import search, services
from yimen.catalog.models import ItemVersion
from yimen.catalog.selectors import versions_in_force

from ..org.factories import DepartmentFactory
from .factories import make_item

# --- words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["我要办理营业执照", "如何申请营业执照？", "营业执照怎么办", "我想办营业执照"]
)
def test_stop_words_and_punctuation_are_dropped(query):
    assert search.tokens(query) == ["营业", "执照", "营业执照"]


@pytest.mark.parametrize(
    "text, word",
    [
        ("个体工商户设立登记", "个体工商户"),
        ("公章刻制备案", "公章刻制"),
        ("社会保障卡申领", "社会保障卡"),
        ("药品零售企业许可", "药品零售"),
        ("城镇污水排入排水管网许可（排水许可）", "排水许可"),
    ],
)
def test_domain_words_are_kept_whole(text, word):
    assert word in search.tokens(text)


def test_tokens_are_distinct_and_lower_case():
    assert search.tokens("EMS 邮寄 ems") == ["ems", "邮寄"]


def test_the_index_pads_each_word_with_spaces():
    text = search.index_text("出生登记", "报户口")
    assert text.startswith(" ") and text.endswith(" ")
    assert text.index(" 出生登记 ") < text.index(" | ") < text.index(" 报户口 ")
    assert search.index_text("", "的") == ""


def test_synonyms_add_the_words_guides_use():
    words = search.query_words("社保卡")
    assert "社会保障卡" in words and words.index("社保卡") < words.index("社会保障卡")


def test_a_longer_word_says_more():
    words = ["登记", "营业执照"]
    assert search.score(" 营业执照 ", words) > search.score(" 登记 ", words)
    assert search.score(" 营业执照 登记 ", words) > search.score(" 营业执照 ", words)
    assert search.score(" 营业执照办理 ", words) == 0  # whole words only


def test_a_word_of_the_title_counts_twice():
    assert search.score(" 营业执照 | 登记 ", ["营业执照"]) == 8
    assert search.score(" 登记 | 营业执照 ", ["营业执照"]) == 4


# --- ranking ------------------------------------------------------------------------------------


def names(queryset) -> list[str]:
    return [v.name for v in queryset]


@pytest.fixture
def catalogue(db):
    make_item(name="社会保障卡申领", keywords="")
    make_item(name="出生登记", keywords="报户口 新生儿")
    make_item(name="食品经营许可", keywords="餐饮 开店")
    return ItemVersion.objects.all()


def test_synonyms_find_the_guides_words(catalogue):
    assert names(search.rank(catalogue, "社保卡")) == ["社会保障卡申领"]
    assert names(search.rank(catalogue, "我要上户口")) == ["出生登记"]


@pytest.mark.parametrize("query", ["", "   ", "我要办理", "怎么办理", "如何申请？", "在哪里办"])
def test_an_empty_or_stop_word_only_query_returns_everything(catalogue, query):
    assert search.rank(catalogue, query).count() == 3


def test_no_match_returns_nothing(catalogue):
    assert not search.rank(catalogue, "火星移民").exists()


def test_a_name_match_beats_a_keyword_only_match(db):
    # The keyword-only match is created first, so a tie would put it first.
    make_item(name="个体工商户设立登记", keywords="营业执照 开店")
    make_item(name="营业执照遗失补领", keywords="")

    assert names(search.rank(ItemVersion.objects.all(), "营业执照")) == [
        "营业执照遗失补领",
        "个体工商户设立登记",
    ]


def test_more_and_longer_words_rank_higher(db):
    make_item(name="公共场所卫生许可", keywords="")
    make_item(name="食品经营许可", keywords="")
    make_item(name="食品经营许可变更", keywords="")

    ranked = names(search.rank(ItemVersion.objects.all(), "食品经营许可"))

    assert ranked[-1] == "公共场所卫生许可"
    assert set(ranked[:2]) == {"食品经营许可", "食品经营许可变更"}


def test_rank_keeps_the_querysets_filter(db):
    make_item(name="出生登记")
    make_item(name="出生医学证明补发", status="draft")
    assert names(search.rank(versions_in_force(), "出生")) == ["出生登记"]


def test_refresh_derived_indexes_the_department(db):
    market = DepartmentFactory(name="佛山市市场监督管理局", short_name="市场监管局")
    make_item(name="食品经营许可", department=market)
    make_item(name="出生登记", department=DepartmentFactory(name="佛山市公安局"))
    everything = ItemVersion.objects.all()

    assert names(search.rank(everything, "市场监管局")) == ["食品经营许可"]
    assert names(search.rank(everything, "公安局")) == ["出生登记"]

    market.name, market.short_name = "佛山市卫生健康局", ""
    market.save()
    for version in everything:
        services.refresh_derived(version)
    assert names(search.rank(everything, "卫生健康局")) == ["食品经营许可"]
    assert not search.rank(everything, "市场监管局").exists()


def test_hits_are_capped(db, monkeypatch):
    for name in ("出生登记", "出生医学证明", "出生登记变更"):
        make_item(name=name)
    monkeypatch.setattr(search, "MAX_HITS", 2)
    assert search.rank(ItemVersion.objects.all(), "出生").count() == 2
