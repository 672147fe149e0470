"""The knowledge-base pages of the 12345 hotline: the agents' search (suggestions while they
type, by htmx), an article, writing and submitting articles, the reviewers' queue and
retiring an article.

Thin: yimen.hotline.search finds, yimen.hotline.knowledge writes, yimen.hotline.permissions
decides who sees and does what. A service's ValidationError goes back on the form with
status 400; an article the user may not see is a 404, a page or an action they may not use
a 403."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimen.common.forms import set_service_errors

from . import knowledge, permissions, search
from .choices import ArticleStatus
from .consoles import render_console, writes_articles
from .consoles import require as _require
from .forms import ArticleForm, KnowledgeSearchForm, RetireForm, ReviewForm
from .models import KnowledgeArticle

PAGE_SIZE = 20
RESULT_LIMIT = 10  # the results of a search the agent sends
SUGGEST_LIMIT = 5  # the suggestions while they type
EXCERPT_CHARS = 160
EXPIRING_DAYS = 30  # "valid until" shows as a warning this close to the date


def _articles(user):
    return permissions.visible_articles(
        user, KnowledgeArticle.objects.select_related("department", "category__parent__parent")
    )


def _article(user, public_id) -> KnowledgeArticle:
    article = (
        _articles(user)
        .select_related("created_by", "reviewed_by")
        .filter(public_id=public_id)
        .first()
    )
    if article is None:
        raise Http404(_("No article you may read has this id."))
    return article


# --- highlighting ----------------------------------------------------------------------------


def _pattern(terms) -> re.Pattern | None:
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def highlight(text: str, terms) -> str:
    """`text` escaped, each occurrence of a matched term in <mark>."""
    pattern = _pattern(terms)
    if pattern is None:
        return escape(text)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # every piece is escaped above


def excerpt(text: str, terms, *, size: int = EXCERPT_CHARS) -> str:
    """About `size` characters of `text` around its first matched term, highlighted."""
    text = " ".join(text.split())
    pattern = _pattern(terms)
    match = pattern.search(text) if pattern else None
    start = max(0, match.start() - size // 4) if match else 0
    piece = text[start : start + size]
    return highlight(
        ("…" if start else "") + piece + ("…" if start + size < len(text) else ""), terms
    )


def best_question(article: KnowledgeArticle, terms) -> str:
    """The question variant that shares most matched terms (empty when none does)."""
    pattern = _pattern(terms)
    if pattern is None:
        return ""
    scored = [(len(set(pattern.findall(q.lower()))), q) for q in question_lines(article)]
    scored = [row for row in scored if row[0]]
    if not scored:
        return ""
    return highlight(max(scored, key=lambda row: row[0])[1], terms)


def question_lines(article: KnowledgeArticle) -> list[str]:
    return [line.strip() for line in article.questions.splitlines() if line.strip()]


def validity(article: KnowledgeArticle, today) -> str:
    """ "none" (no end), "expired", "expiring" (within EXPIRING_DAYS) or "valid"."""
    if article.valid_until is None:
        return "none"
    if article.valid_until < today:
        return "expired"
    if (article.valid_until - today).days <= EXPIRING_DAYS:
        return "expiring"
    return "valid"


def hit_rows(user, hits, *, today) -> list[dict]:
    """The hits the user may read, in their order, each article fetched again with what the
    row shows (one query for all of them) and its text highlighted."""
    by_pk = {a.pk: a for a in _articles(user).filter(pk__in=[h.article.pk for h in hits])}
    rows = []
    for hit in hits:
        article = by_pk.get(hit.article.pk)
        if article is None:
            continue
        rows.append(
            {
                "article": article,
                "score": hit.score,
                "matched": hit.matched,
                "title": highlight(article.title, hit.matched),
                "question": best_question(article, hit.matched),
                "excerpt": excerpt(article.answer, hit.matched),
                "validity": validity(article, today),
            }
        )
    return rows


# --- search ----------------------------------------------------------------------------------


@login_required
def knowledge_search(request):
    """The agent's search. As they type, htmx asks for the suggestions alone (debounced);
    sending the form shows up to RESULT_LIMIT results, optionally of one department."""
    _require(permissions.may_search, request.user)
    form = KnowledgeSearchForm(request.GET or None)
    today = timezone.localdate()
    context = {"form": form, "rows": [], "query": "", "live": bool(request.htmx)}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        department = form.cleaned_data["department"]
        if request.htmx and department is None:
            hits = search.suggest(query, limit=SUGGEST_LIMIT)
        else:
            limit = SUGGEST_LIMIT if request.htmx else RESULT_LIMIT
            hits = search.search(query, limit=limit, today=today, department=department)
        context.update(query=query, rows=hit_rows(request.user, hits, today=today))
    if request.htmx:
        return render(request, "hotline/_results.html", context, status=status)
    return render_console(request, "hotline/search.html", context, status=status)


# --- an article ------------------------------------------------------------------------------


def _actions(user, article) -> dict:
    """Which of the article's actions the user is offered (the services check again)."""
    editable = permissions.may_edit_article(user, article)
    reviewer = permissions.is_knowledge_reviewer(user)
    return {
        "edit": editable,
        "submit": editable and article.status == ArticleStatus.DRAFT,
        "review": permissions.may_review_article(user, article),
        "retire": reviewer and article.status != ArticleStatus.RETIRED,
        "see_review": editable or reviewer,
    }


def _render_article(request, article, *, review_form=None, retire_form=None, status=200):
    actions = _actions(request.user, article)
    context = {
        "article": article,
        "questions": question_lines(article),
        "tags": article.tags.split(),
        "validity": validity(article, timezone.localdate()),
        "actions": actions,
        "review_form": review_form or ReviewForm(),
        "retire_form": retire_form or RetireForm(auto_id="retire-%s"),
    }
    return render_console(request, "hotline/article.html", context, status=status)


@login_required
def article_detail(request, public_id):
    _require(permissions.may_search, request.user)
    return _render_article(request, _article(request.user, public_id))


@login_required
def article_create(request):
    _require(writes_articles, request.user)
    form = ArticleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                article = knowledge.article_create(actor=request.user, **form.service_fields())
                if "submit" in request.POST:
                    knowledge.article_submit(article=article, actor=request.user)
            except ValidationError as exc:
                set_service_errors(form, exc)
            else:
                if "submit" in request.POST:
                    messages.success(request, _("The article was sent for review."))
                else:
                    messages.success(request, _("The draft was saved."))
                return redirect("hotline:article", public_id=article.public_id)
        status = 400
    context = {"form": form, "article": None}
    return render_console(request, "hotline/edit.html", context, status=status)


@login_required
def article_edit(request, public_id):
    article = _article(request.user, public_id)
    if not permissions.may_edit_article(request.user, article):
        raise PermissionDenied
    form = ArticleForm(request.POST or None, instance=article)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = form.changed_service_fields()
            try:
                if changed:
                    article = knowledge.article_update(
                        article=article, actor=request.user, **changed
                    )
                if "submit" in request.POST and article.status == ArticleStatus.DRAFT:
                    knowledge.article_submit(article=article, actor=request.user)
            except ValidationError as exc:
                set_service_errors(form, exc)
            else:
                messages.success(request, _("The article was saved."))
                return redirect("hotline:article", public_id=article.public_id)
        status = 400
    context = {"form": form, "article": article}
    return render_console(request, "hotline/edit.html", context, status=status)


def _refused(request, article, exc: ValidationError, **forms):
    """The article page again, with the service's reason."""
    for message in exc.messages:
        messages.error(request, message)
    return _render_article(request, article, status=400, **forms)


@login_required
@require_POST
def article_submit(request, public_id):
    article = _article(request.user, public_id)
    if not permissions.may_edit_article(request.user, article):
        raise PermissionDenied
    try:
        knowledge.article_submit(article=article, actor=request.user)
    except ValidationError as exc:
        return _refused(request, article, exc)
    messages.success(request, _("The article was sent for review."))
    return redirect("hotline:article", public_id=article.public_id)


@login_required
@require_POST
def article_review(request, public_id):
    _require(permissions.is_knowledge_reviewer, request.user)
    article = _article(request.user, public_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _render_article(request, article, review_form=form, status=400)
    try:
        knowledge.article_review(
            article=article,
            actor=request.user,
            approve=form.approve,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        if request.POST.get("next") == "review":
            for message in exc.messages:
                messages.error(request, message)
            return redirect("hotline:review")
        return _refused(request, article, exc, review_form=form)
    if form.approve:
        messages.success(request, _("“%(title)s” is published.") % {"title": article.title})
    else:
        messages.success(
            request, _("“%(title)s” was sent back to its author.") % {"title": article.title}
        )
    if request.POST.get("next") == "review":
        return redirect("hotline:review")
    return redirect("hotline:article", public_id=article.public_id)


@login_required
@require_POST
def article_retire(request, public_id):
    _require(permissions.is_knowledge_reviewer, request.user)
    article = _article(request.user, public_id)
    form = RetireForm(request.POST, auto_id="retire-%s")
    if not form.is_valid():
        return _render_article(request, article, retire_form=form, status=400)
    try:
        knowledge.article_retire(
            article=article, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        return _refused(request, article, exc, retire_form=form)
    messages.success(request, _("The article was retired."))
    return redirect("hotline:article", public_id=article.public_id)


# --- lists -----------------------------------------------------------------------------------


def _article_list(request, articles, *, title, intro, reviewing=False):
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "title": title,
        "intro": intro,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "reviewing": reviewing,
        "review_form": ReviewForm(),
    }
    return render_console(request, "hotline/list.html", context)


@login_required
def drafts(request):
    """The drafts and the articles awaiting review that the user may see (an agent: the
    drafts of the agents; a reviewer: all)."""
    _require(writes_articles, request.user)
    articles = _articles(request.user).filter(
        status__in=[ArticleStatus.DRAFT, ArticleStatus.PENDING]
    )
    return _article_list(
        request,
        articles.select_related("created_by"),
        title=_("Drafts and articles awaiting review"),
        intro=_("Articles not yet published, the most recently changed first."),
    )


@login_required
def review_queue(request):
    _require(permissions.is_knowledge_reviewer, request.user)
    articles = _articles(request.user).filter(status=ArticleStatus.PENDING)
    return _article_list(
        request,
        articles.select_related("created_by").order_by("updated_at", "pk"),
        title=_("Review queue"),
        intro=_(
            "Articles awaiting review, the longest waiting first. Publish them, or send them "
            "back with a note. You may not review your own edit."
        ),
        reviewing=True,
    )
