"""The hotline API: thin views that parse, check access and call the search, the selectors
and the permissions of yimen.hotline.

Who calls what:

- those who answer from the knowledge base (agents, unit handlers, reviewers, supervisors;
  yimen.hotline.permissions.may_search): the search and an article. Search answers only
  published articles in force; an article is a 404 to whoever may not see it (a draft to a
  unit handler, say). Anyone else: 403;
- anyone, signed in or not: the category taxonomy (active categories only; Open311 lists
  them publicly too);
- staff: the deadline rules of every type × urgency (the configured row, else the default).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response

from yimen.common.api import BAD_INPUT, FORBIDDEN, NOT_FOUND
from yimen.org.models import Department
from yimen.org.roles import is_staff_member

from .. import permissions, search, selectors
from ..models import KnowledgeArticle
from . import serializers as s

# One tag for the whole app, so the API docs group these endpoints under "hotline".
TAGS = ["hotline"]


class MaySearchKnowledge(BasePermission):
    message = _("Only hotline agents, unit handlers, reviewers and supervisors read the answers.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and permissions.may_search(request.user))


class IsStaffMember(BasePermission):
    message = _("Only staff read the deadline rules.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and is_staff_member(request.user))


class HotlineView(generics.GenericAPIView):
    """Plain views: no filters, no pages, each names its input and output in its schema."""

    filter_backends: list = []
    pagination_class = None


def articles_for(user):
    """The articles the user may see, with what a row shows (no query per row)."""
    return permissions.visible_articles(
        user, KnowledgeArticle.objects.select_related("department", "category__parent__parent")
    )


# --- the knowledge base ----------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Search the knowledge base"),
    description=_(
        "The published answers in force that best match what the caller asks (jieba tokens, "
        "BM25), best first, each with its score and the terms it matched. For agents, unit "
        "handlers, reviewers and supervisors."
    ),
    parameters=[s.KnowledgeQuerySerializer],
    responses={200: s.HitSerializer(many=True), 400: BAD_INPUT, 403: FORBIDDEN},
)
class KnowledgeSearchView(HotlineView):
    permission_classes = [MaySearchKnowledge]
    serializer_class = s.HitSerializer

    def get(self, request):
        query = s.KnowledgeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        department = None
        if "department" in data:
            department = Department.objects.filter(pk=data["department"], is_active=True).first()
            if department is None:
                raise serializers.ValidationError({"department": [_("No such department.")]})
        hits = search.search(
            data["q"], limit=data["limit"], today=timezone.localdate(), department=department
        )
        visible = {
            a.pk: a for a in articles_for(request.user).filter(pk__in=[h.article.pk for h in hits])
        }
        rows = [
            {"score": hit.score, "matched": hit.matched, "article": visible[hit.article.pk]}
            for hit in hits
            if hit.article.pk in visible
        ]
        return Response(s.HitSerializer(rows, many=True).data)


@extend_schema(
    tags=TAGS,
    summary=_("A knowledge article"),
    description=_(
        "An article the user may see: published and in force for everyone who searches; "
        "drafts and articles awaiting review too for agents and reviewers (with the review "
        "note). A 404 for any other."
    ),
    responses={200: s.ArticleDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    parameters=[
        OpenApiParameter("public_id", str, OpenApiParameter.PATH, description=_("Its UUID."))
    ],
)
class KnowledgeDetailView(HotlineView, generics.RetrieveAPIView):
    permission_classes = [MaySearchKnowledge]
    serializer_class = s.ArticleDetailSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return articles_for(self.request.user)

    def get_serializer_context(self):
        user = self.request.user
        sees_review = permissions.is_agent(user) or permissions.is_knowledge_reviewer(user)
        return {**super().get_serializer_context(), "sees_review": sees_review}


# --- the taxonomy and the deadlines ----------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Category taxonomy"),
    description=_(
        "The active categories as a tree of three levels, each level in its order, each with "
        "its default unit. Orders are filed under leaves. Public."
    ),
    responses={200: s.CategoryNodeSerializer(many=True)},
)
class CategoryTreeView(HotlineView):
    permission_classes = [AllowAny]
    serializer_class = s.CategoryNodeSerializer

    def get(self, request):
        return Response(s.CategoryNodeSerializer(selectors.tree(), many=True).data)


@extend_schema(
    tags=TAGS,
    summary=_("Deadline rules"),
    description=_(
        "The time limits to sign for, reply to and close an order of every type × urgency: "
        "hours for urgent orders, working days otherwise; the built-in default where none "
        "is configured. Read only; for staff."
    ),
    responses={200: s.DeadlineRuleSerializer(many=True), 403: FORBIDDEN},
)
class DeadlineRuleListView(HotlineView):
    permission_classes = [IsStaffMember]
    serializer_class = s.DeadlineRuleSerializer

    def get(self, request):
        return Response(s.DeadlineRuleSerializer(selectors.deadline_rules(), many=True).data)
