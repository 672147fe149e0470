"""The dispatch assistant (智能派单): the units most likely to handle an order, best first,
and the categories it most likely belongs to.

**Rules** until a model is trained: the category's default unit, then the district's own
government.

**The model** (`train`) learns from the closed orders a unit handled (status closed,
resolution handled, with a lead unit and a category, both still active): the unit is the
order's lead unit when it closed (after a re-dispatch, the sub-unit that did the work), the
text its title, content and location, with the district's name. The text is cut into
words by yimen.hotline.search.tokens (jieba, deterministic; stop words and punctuation
out; bare numbers, such as phone numbers, out too), and the features are TF-IDF weights
(sublinear tf) of the characters and character pairs of those words (`char_wb` 1–2
grams), seen in two orders at least. Two linear classifiers share them: text → lead unit
and text → category, each an SGD logistic regression (one-vs-rest, probabilities
normalised over the classes).

Chosen by measurement (bench/dispatch: 5,000 generated orders over the demo taxonomy's 91
leaves and 33 units, 6 % of them handled by another unit than the usual one). On new
orders worded like the old ones every variant tried scores alike (unit top-1 93 %, top-3
95 %: the label noise is the ceiling). On orders whose subject is worded in a way never
seen in training, character pairs beat words and word pairs by 3–6 points of top-3 (unit
0.865 against 0.81–0.835, category 0.88 against 0.80–0.83); pairs of the words and of the
raw text score within a point of each other, and the words' are kept: they drop the stop
words of yimen.hotline.search and give a small vocabulary (≈ 2,800 features: characters and
pairs of them, not the callers' phrases, numbers or names). Multinomial LogisticRegression is as
accurate and 7–10 times slower to fit.

**Evaluation**: the usable orders are split once (seeded; stratified by unit: each unit
with two orders or more has its share held out, a unit seen once stays in training), the
models are fitted on the training part and scored on the held-out part (top-1 and top-3
accuracy of the unit and of the category; DispatchModel.train_size / test_size are those
two parts). The stored models are then **refitted on all the orders** with the same
settings, so the newest orders and the rarest units count too; the figures are the
estimate of what they score.

**The artifact** is a pickle of a small dict (the vectoriser, the two classifiers, the
unit and category ids they answer with), sealed with an HMAC of the project's SECRET_KEY
(SECRET_KEY_FALLBACKS are accepted too) and stored in a new DispatchModel row (version =
the last + 1, sha256 of the stored bytes). The newest active version answers; deactivating
it in the admin falls back to the one before. A process loads an artifact once and keeps
it while it is the newest active version (one indexed query per suggestion tells): the
SHA-256 and the seal are checked before anything is unpickled, and a refused artifact is
logged and answered with the rules — a row written into the database by anyone without
the key is never unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import pickle
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from yimen.common import audit
from yimen.org.models import Department, Region

from . import search
from .choices import AssignmentRole, OrderStatus, Resolution
from .models import Assignment, Category, DispatchModel, WorkOrder

logger = logging.getLogger(__name__)

FORMAT = 1  # of the artifact's dict; a different one is refused
MAGIC = b"YDM1"  # the artifact's first bytes, then the 32-byte seal, then the pickle
SEAL_SALT = "yimen.hotline.dispatch.artifact"
SEAL_SIZE = 32
NGRAMS = (1, 2)  # characters and character pairs of the words
MIN_DF = 2  # a feature must be seen in two orders (one caller's words are not learnt)
ALPHA = 5e-5  # the SGD's L2 regularisation (measured: 1e-4 … 3e-5 score alike)
# The model's best probability under which the category's default unit is listed too, in
# the last place, when the model did not list it. bench/dispatch: in the last place the
# rule never costs top-1; in the first place it costs 2–4 points of top-1 from t = 0.5 up.
CONFIDENT = 0.5
CANDIDATES = 10  # classes read from the model, to have `limit` left after dropping

# Steps of `train`, as `progress` is told them (in this order; dry runs stop at evaluate).
STEPS = {
    "load": _("Loading the closed orders"),
    "tokenise": _("Tokenising"),
    "units": _("Fitting the unit model"),
    "categories": _("Fitting the category model"),
    "evaluate": _("Evaluating on the held-out orders"),
    "refit": _("Refitting on all the orders"),
    "save": _("Saving"),
}
DRY_RUN_STEPS = ("load", "tokenise", "units", "categories", "evaluate")

_NUMBER = re.compile(r"^[\d.]+$")


@dataclass(frozen=True)
class Suggestion:
    unit: Department
    score: float  # 0…1
    source: str  # "model", "category" or "district"


# --- the text ----------------------------------------------------------------------------------


def document(text: str, district: str = "") -> str:
    """What the model reads of an order: the jieba words of its text and its district's
    name, space-separated, bare numbers left out."""
    words = search.tokens(f"{text}\n{district}" if district else text)
    return " ".join(w for w in words if not _NUMBER.match(w))


def order_text(title: str, content: str, address: str = "") -> str:
    """The text of an order as the model is trained on it (suggest with the same)."""
    return "\n".join(part for part in (title, content, address) if part)


# --- training ----------------------------------------------------------------------------------


def _vectoriser():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        min_df=MIN_DF,
        lowercase=False,  # search.tokens lower-cased already
        sublinear_tf=True,
        dtype=np.float32,
    )


def _classifier(seed: int):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=seed)


def _shrunk(classifier):
    # Single precision halves the artifact and is plenty for a ranking.
    classifier.coef_ = classifier.coef_.astype(np.float32)
    classifier.intercept_ = classifier.intercept_.astype(np.float32)
    return classifier


def split(labels: list[int], *, test_share: float, seed: int) -> tuple[list[int], list[int]]:
    """(training, held-out) positions, stratified by label: each label seen twice or more
    has round(share × count) of its orders held out (one at least, one left to train on at
    least); a label seen once is trained on. Deterministic for a seed."""
    rng = np.random.RandomState(seed)
    by_label: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        by_label.setdefault(label, []).append(position)
    train_at, test_at = [], []
    for label in sorted(by_label):
        positions = np.array(by_label[label])
        rng.shuffle(positions)
        held = 0
        if len(positions) >= 2:
            held = min(len(positions) - 1, max(1, round(test_share * len(positions))))
        test_at.extend(positions[:held].tolist())
        train_at.extend(positions[held:].tolist())
    return sorted(train_at), sorted(test_at)


def top_k(probabilities: np.ndarray, classes: np.ndarray, truth: list[int], k: int) -> float:
    """The share of rows whose true class is among the k most probable (a class the model
    never saw is a miss)."""
    if not truth:
        return 0.0
    best = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    hits = sum(truth[row] in classes[best[row]] for row in range(len(truth)))
    return hits / len(truth)


def training_orders():
    """The usable orders: (title, content, address, district name, unit id, category id),
    oldest first. The unit is the one the center dispatched the order to last (level 1):
    what the assistant suggests to the center, even when that unit passed it to a sub-unit."""
    dispatched = (
        Assignment.objects.filter(order=OuterRef("pk"), role=AssignmentRole.LEAD, level=1)
        .order_by("-dispatched_at", "-pk")
        .values("unit_id")[:1]
    )
    return (
        WorkOrder.objects.filter(
            status=OrderStatus.CLOSED,
            resolution=Resolution.HANDLED,
            category__isnull=False,
            category__is_active=True,
        )
        .annotate(
            dispatched_unit=Coalesce(
                Subquery(dispatched), "lead_unit_id", output_field=models.BigIntegerField()
            )
        )
        .filter(dispatched_unit__in=Department.objects.filter(is_active=True).values("pk"))
        .order_by("closed_at", "pk")
        .values_list(
            "title", "content", "address", "district__name", "dispatched_unit", "category_id"
        )
    )


@dataclass
class Figures:
    """What a training measured (and, unless a dry run, saved)."""

    orders: int
    train_size: int
    test_size: int
    unit_top1: float
    unit_top3: float
    category_top1: float
    category_top3: float
    units: int
    categories: int
    seconds: float = 0.0


def train(
    *,
    actor=None,
    progress: Callable[[str], Any] | None = None,
    test_share: float = 0.2,
    seed: int = 0,
    min_orders: int = 50,
    save: bool = True,
) -> DispatchModel:
    """Train both models on the closed orders, measure them on a held-out share, refit them
    on all the orders and save a new DispatchModel version (see the module's docstring).
    `progress(step)` is called as each step of STEPS begins. With save=False (a dry run)
    it stops after the evaluation and returns an unsaved DispatchModel with the figures.
    The row returned carries `.figures` (a Figures: the orders used, units, categories,
    seconds beside the accuracies). Fewer than `min_orders` usable orders, or a single unit
    or category among them: a ValidationError, nothing saved."""
    started = time.monotonic()
    step = progress or (lambda _step: None)
    if not 0 < test_share < 1:
        raise ValidationError({"test_share": _("The held-out share must be between 0 and 1.")})

    step("load")
    rows = list(training_orders().iterator(chunk_size=2000))
    if len(rows) < max(min_orders, 2):
        raise ValidationError(
            _(
                "Only %(count)d closed orders handled by an active unit, with an active "
                "category, can be learnt from; training needs %(needed)d at least."
            ),
            code="too_few",
            params={"count": len(rows), "needed": max(min_orders, 2)},
        )
    units = [row[4] for row in rows]
    categories = [row[5] for row in rows]
    for labels, message in (
        (units, _("All the usable orders were handled by one unit: there is nothing to learn.")),
        (categories, _("All the usable orders share one category: there is nothing to learn.")),
    ):
        if len(set(labels)) < 2:
            raise ValidationError(message, code="one_class")

    step("tokenise")
    docs = [document(order_text(t, c, a), d or "") for t, c, a, d, _u, _c in rows]
    train_at, test_at = split(units, test_share=test_share, seed=seed)
    if not test_at:
        raise ValidationError(
            {"test_share": _("No order would be held out: raise the share or add orders.")}
        )

    vectoriser = _vectoriser()
    x_train = vectoriser.fit_transform([docs[i] for i in train_at])
    x_test = vectoriser.transform([docs[i] for i in test_at])

    step("units")
    unit_model = _classifier(seed).fit(x_train, [units[i] for i in train_at])
    step("categories")
    category_train = [categories[i] for i in train_at]
    if len(set(category_train)) < 2:  # the split is stratified by unit, not by category
        raise ValidationError(
            _("The orders trained on share one category: add orders or lower the share."),
            code="one_class",
        )
    category_model = _classifier(seed).fit(x_train, category_train)

    step("evaluate")
    p_units = unit_model.predict_proba(x_test)
    p_categories = category_model.predict_proba(x_test)
    unit_truth = [units[i] for i in test_at]
    category_truth = [categories[i] for i in test_at]
    figures = Figures(
        orders=len(rows),
        train_size=len(train_at),
        test_size=len(test_at),
        unit_top1=top_k(p_units, unit_model.classes_, unit_truth, 1),
        unit_top3=top_k(p_units, unit_model.classes_, unit_truth, 3),
        category_top1=top_k(p_categories, category_model.classes_, category_truth, 1),
        category_top3=top_k(p_categories, category_model.classes_, category_truth, 3),
        units=len(set(units)),
        categories=len(set(categories)),
    )
    row = DispatchModel(
        trained_at=timezone.now(),
        trained_by=actor if getattr(actor, "is_authenticated", False) else None,
        train_size=figures.train_size,
        test_size=figures.test_size,
        unit_top1=figures.unit_top1,
        unit_top3=figures.unit_top3,
        category_top1=figures.category_top1,
        category_top3=figures.category_top3,
    )
    if not save:
        figures.seconds = time.monotonic() - started
        row.figures = figures
        return row

    step("refit")
    vectoriser = _vectoriser()
    x_all = vectoriser.fit_transform(docs)
    unit_model = _shrunk(_classifier(seed).fit(x_all, units))
    category_model = _shrunk(_classifier(seed).fit(x_all, categories))

    step("save")
    import sklearn  # here: importing it takes most of a second

    artifact = seal(
        {
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "vectoriser": vectoriser,
            "units": unit_model,
            "categories": category_model,
            "unit_ids": unit_model.classes_.tolist(),
            "category_ids": category_model.classes_.tolist(),
            "orders": len(rows),
        }
    )
    row.artifact = artifact
    row.sha256 = hashlib.sha256(artifact).hexdigest()
    figures.seconds = time.monotonic() - started
    _save(row, actor=actor, figures=figures, seed=seed, test_share=test_share)
    row.figures = figures
    return row


def _save(row: DispatchModel, *, actor, figures: Figures, seed: int, test_share: float) -> None:
    for attempt in range(3):
        try:
            with transaction.atomic():
                last = DispatchModel.objects.aggregate(last=Max("version"))["last"] or 0
                row.version = last + 1
                row.save(force_insert=True)
                audit.record(
                    action="hotline.dispatch.train",
                    obj=row,
                    actor=actor,
                    to_state=f"v{row.version}",
                    payload={
                        "version": row.version,
                        "sha256": row.sha256,
                        "bytes": len(row.artifact),
                        "orders": figures.orders,
                        "train_size": figures.train_size,
                        "test_size": figures.test_size,
                        "units": figures.units,
                        "categories": figures.categories,
                        "unit_top1": round(figures.unit_top1, 4),
                        "unit_top3": round(figures.unit_top3, 4),
                        "category_top1": round(figures.category_top1, 4),
                        "category_top3": round(figures.category_top3, 4),
                        "seed": seed,
                        "test_share": test_share,
                    },
                )
            return
        except IntegrityError:
            # Another training took the same version number at the same moment.
            row.pk = None
            if attempt == 2:
                raise


# --- the artifact ------------------------------------------------------------------------------


def _seal_of(payload: bytes, secret: str) -> bytes:
    return salted_hmac(SEAL_SALT, payload, secret=secret, algorithm="sha256").digest()


def seal(content: dict) -> bytes:
    """The stored bytes of an artifact: MAGIC, the HMAC of the pickle, the pickle."""
    payload = pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + _seal_of(payload, settings.SECRET_KEY) + payload


class Refused(Exception):
    """An artifact that is not loaded: altered, sealed with another key, or malformed."""


def unseal(artifact: bytes, sha256: str) -> dict:
    """The artifact's dict, after checking its SHA-256 against the row's and its seal
    against the project's keys (nothing is unpickled before both hold)."""
    artifact = bytes(artifact)
    if not hmac.compare_digest(hashlib.sha256(artifact).hexdigest(), sha256 or ""):
        raise Refused("the SHA-256 of the artifact does not match the row")
    if artifact[: len(MAGIC)] != MAGIC:
        raise Refused("not a dispatch model artifact")
    seal_, payload = (
        artifact[len(MAGIC) : len(MAGIC) + SEAL_SIZE],
        artifact[len(MAGIC) + SEAL_SIZE :],
    )
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(seal_, _seal_of(payload, key)) for key in keys):
        raise Refused("the artifact's seal does not match this installation's key")
    try:
        content = pickle.load(io.BytesIO(payload))
    except Exception as error:  # a sealed artifact of another library version, say
        raise Refused(f"the artifact cannot be read: {error!r}") from error
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise Refused("the artifact has another format")
    return content


class Loaded:
    """A verified artifact in memory: ranks units and categories for a text."""

    def __init__(self, version: int, content: dict):
        self.version = version
        self.vectoriser = content["vectoriser"]
        self.unit_model = content["units"]
        self.category_model = content["categories"]
        self.unit_ids = np.asarray(content["unit_ids"])
        self.category_ids = np.asarray(content["category_ids"])
        # The padding between words ("char_wb") is a feature of every text.
        vocabulary = self.vectoriser.vocabulary_
        self.blank = frozenset(i for term, i in vocabulary.items() if not term.strip())

    def _ranked(self, model, ids, x, n: int) -> list[tuple[int, float]]:
        if not any(i not in self.blank for i in x.indices):
            # Nothing of the text was seen in training: the answer would be the classes'
            # prior, not a reading of the text.
            return []
        p = model.predict_proba(x)[0]
        best = np.argsort(-p, kind="stable")[:n]
        return [(int(ids[i]), float(p[i])) for i in best]

    def units(self, doc: str, n: int = CANDIDATES) -> list[tuple[int, float]]:
        """The n most probable units for a document, as (id, probability)."""
        x = self.vectoriser.transform([doc])
        return self._ranked(self.unit_model, self.unit_ids, x, n)

    def categories(self, doc: str, n: int = CANDIDATES) -> list[tuple[int, float]]:
        """The n most probable categories for a document, as (id, probability)."""
        x = self.vectoriser.transform([doc])
        return self._ranked(self.category_model, self.category_ids, x, n)


_lock = threading.Lock()
_cached: tuple[tuple, Loaded | None] | None = None  # ((pk, version, sha256), model or refused)


def forget() -> None:
    """Drop the model kept in this process (the next suggestion loads the newest)."""
    global _cached
    with _lock:
        _cached = None


def current() -> Loaded | None:
    """The newest active model, loaded once per process and version; None without one,
    or when its artifact is refused (logged once)."""
    global _cached
    newest = (
        DispatchModel.objects.filter(is_active=True)
        .order_by("-version")
        .values_list("pk", "version", "sha256")
        .first()
    )
    if newest is None:
        return None
    cached = _cached
    if cached is not None and cached[0] == newest:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == newest:
            return _cached[1]
        pk, version, sha256 = newest
        artifact = DispatchModel.objects.filter(pk=pk).values_list("artifact", flat=True).first()
        loaded = None
        try:
            if artifact is None:
                raise Refused("the row is gone")
            loaded = Loaded(version, unseal(artifact, sha256))
        except (Refused, KeyError) as error:
            logger.error("Dispatch model v%s refused, the rules answer: %s", version, error)
        _cached = (newest, loaded)
        return loaded


# --- suggestions -------------------------------------------------------------------------------


def _rules(category: Category | None, district: Region | None) -> list[Suggestion]:
    found: list[Suggestion] = []
    if category is not None and category.default_unit_id is not None:
        unit = category.default_unit
        if unit.is_active:
            found.append(Suggestion(unit, 1.0, "category"))
    if district is not None:
        local = Department.objects.filter(region=district, parent=None, is_active=True).first()
        if local is not None and all(s.unit != local for s in found):
            found.append(Suggestion(local, 0.5, "district"))
    return found


def suggest(
    *, text: str, category: Category | None = None, district: Region | None = None, limit: int = 3
) -> list[Suggestion]:
    """The `limit` units most likely to handle an order about `text`, best first.

    With a model: its most probable active units (source "model", the score its
    probability); when its best probability is under CONFIDENT and the category's default
    unit is not among them, that unit takes the last place (source "category", the score
    the model's probability of it); places still free go to the district's own government
    (source "district"). Without a model, or no text: the rules — the category's default
    unit (score 1), then the district's own government (score 0.5); the rules too when
    the model knows nothing of the text (not one of its features was seen in training)."""
    if limit <= 0:
        return []
    model = current() if text and text.strip() else None
    if model is None:
        return _rules(category, district)[:limit]
    ranked = model.units(document(text, district.name if district is not None else ""))
    if not ranked:
        return _rules(category, district)[:limit]
    probability = dict(ranked)
    rule = category.default_unit_id if category is not None else None
    wanted = [unit_id for unit_id, _p in ranked]
    if rule is not None and rule not in probability:
        wanted.append(rule)
    active = Department.objects.filter(pk__in=wanted, is_active=True).in_bulk()
    found = [Suggestion(active[u], p, "model") for u, p in ranked if u in active][:limit]
    best = found[0].score if found else 0.0
    if rule in active and best < CONFIDENT and all(s.unit.pk != rule for s in found):
        fallback = Suggestion(active[rule], probability.get(rule, 0.0), "category")
        found = [*found[: limit - 1], fallback]
    if len(found) < limit and district is not None:
        for extra in _rules(None, district):
            if all(s.unit != extra.unit for s in found):
                found.append(
                    Suggestion(extra.unit, probability.get(extra.unit.pk, 0.0), extra.source)
                )
    return found[:limit]


def suggest_categories(*, text: str, limit: int = 3) -> list[tuple[Category, float]]:
    """The `limit` active categories the model finds most likely for `text`, with their
    probabilities, best first; nothing without a model."""
    if limit <= 0 or not text or not text.strip():
        return []
    model = current()
    if model is None:
        return []
    ranked = model.categories(document(text), n=max(CANDIDATES, limit))
    found = (
        Category.objects.filter(pk__in=[c for c, _p in ranked], is_active=True)
        .select_related("parent__parent")
        .in_bulk()
    )
    return [(found[c], p) for c, p in ranked if c in found][:limit]
