"""Shapes of the hotline API. Serializers parse and present; yimen.hotline.search finds,
yimen.hotline.selectors reads the taxonomy and the deadlines, yimen.hotline.permissions
decides who sees what."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yimen.catalog.api import serializers as catalog
from yimen.org.api.serializers import DepartmentRefSerializer

from ..choices import ArticleStatus, DeadlineUnit, OrderType, Urgency
from ..models import Category, KnowledgeArticle

MAX_LIMIT = 20


class EnumField(catalog.EnumField):
    """The catalogue's enum field, its schema component named "Hotline…Enum" so that it
    clashes with no other app's field of the same name."""

    def __init__(self, choices, *, component: str, **kwargs):
        super().__init__(choices, component=component, **kwargs)
        self.component = f"Hotline{component}Enum"


class EnumFieldExtension(catalog.EnumFieldExtension):
    target_class = EnumField


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


# --- the knowledge base ----------------------------------------------------------------------


class KnowledgeQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200,
        help_text=_("What the caller asks, in their words (Chinese is segmented with jieba)."),
    )
    department = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Only the answers of this department (its id)."),
    )
    limit = serializers.IntegerField(
        required=False,
        default=5,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=_("How many answers at most (1–20, 5 unless given)."),
    )

    def validate_q(self, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise serializers.ValidationError(_("Say what the caller asks."))
        return value


class CategoryRefSerializer(serializers.ModelSerializer):
    path = serializers.CharField(help_text=_("The names from the top level down, joined by ›."))

    class Meta:
        model = Category
        fields = ["code", "name", "level", "path"]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    """An article as search results and its detail show it."""

    questions = serializers.SerializerMethodField(help_text=_("The ways of asking, one each."))
    tags = serializers.SerializerMethodField()
    department = DepartmentRefSerializer(allow_null=True)
    category = CategoryRefSerializer(allow_null=True)
    status = enum(ArticleStatus)
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = KnowledgeArticle
        fields = [
            "public_id",
            "title",
            "questions",
            "answer",
            "department",
            "category",
            "tags",
            "valid_until",
            "status",
            "status_label",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def get_questions(self, article) -> list[str]:
        return [line.strip() for line in article.questions.splitlines() if line.strip()]

    def get_tags(self, article) -> list[str]:
        return article.tags.split()


class ArticleDetailSerializer(ArticleSerializer):
    """An article with its review, which only its editors and the reviewers see."""

    review = serializers.SerializerMethodField(
        help_text=_("The last review; empty for those who neither edit nor review articles.")
    )

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "review"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "reviewed_at": {"type": "string", "format": "date-time", "nullable": True},
                "note": {"type": "string"},
            },
        }
    )
    def get_review(self, article):
        if not self.context.get("sees_review"):
            return None
        reviewed_at = article.reviewed_at
        return {
            "reviewed_at": serializers.DateTimeField().to_representation(reviewed_at)
            if reviewed_at
            else None,
            "note": article.review_note,
        }


class HitSerializer(serializers.Serializer):
    """One answer of a search: its BM25 score, the query's terms it matched, the article."""

    score = serializers.FloatField()
    matched = serializers.ListField(
        child=serializers.CharField(), help_text=_("The query's terms found in the article.")
    )
    article = ArticleSerializer()


# --- the taxonomy and the deadlines ----------------------------------------------------------


class CategoryLeafSerializer(serializers.Serializer):
    """A category of the tree (yimen.hotline.selectors.Node)."""

    code = serializers.CharField(source="category.code")
    name = serializers.CharField(source="category.name")
    level = serializers.IntegerField(source="category.level")
    order = serializers.IntegerField(source="category.order")
    default_unit = DepartmentRefSerializer(
        source="category.default_unit",
        allow_null=True,
        help_text=_("The unit an order of this category goes to when nothing better is known."),
    )
    is_leaf = serializers.BooleanField(help_text=_("Orders are filed under leaves."))


class CategoryBranchSerializer(CategoryLeafSerializer):
    """A second-level category with its subcategories."""

    children = CategoryLeafSerializer(many=True)


class CategoryNodeSerializer(CategoryLeafSerializer):
    """A top-level category with its subcategories (the taxonomy has three levels)."""

    children = CategoryBranchSerializer(many=True)


class DeadlineRuleSerializer(serializers.Serializer):
    order_type = enum(OrderType)
    order_type_label = serializers.CharField(source="get_order_type_display")
    urgency = enum(Urgency)
    urgency_label = serializers.CharField(source="get_urgency_display")
    unit = enum(DeadlineUnit)
    sign_limit = serializers.IntegerField(help_text=_("To sign for the order, in `unit`."))
    reply_limit = serializers.IntegerField(help_text=_("To reply, in `unit`."))
    close_limit = serializers.IntegerField(help_text=_("To close it, in `unit`."))
    is_default = serializers.SerializerMethodField(
        help_text=_("True when no rule is configured and the built-in default applies.")
    )

    def get_is_default(self, rule) -> bool:
        return rule.pk is None
