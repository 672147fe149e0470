"""The dispatch benchmark: `yimen.hotline.dispatch` trained on generated closed orders, its
accuracy on new calls (beside the category rule alone), the cost of a suggestion, and
(`--compare`) the feature and classifier variants it was chosen from.

    .venv/bin/python bench/dispatch/run.py --orders 5000
    .venv/bin/python bench/dispatch/run.py --orders 50000 --db postgres
    .venv/bin/python bench/dispatch/run.py --compare

Creates a throwaway database (SQLite: a file in a temporary directory; PostgreSQL:
dropped first if it exists), migrates it, writes the demo taxonomy, the units and the
closed orders (bench/dispatch/corpus.py), trains with the service's own code, then times
the suggestions in this process and prints the figures. Everything it made is removed at
the end, also after Ctrl-C. See README.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STARTED = time.monotonic()


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=5000, help="closed orders (default 5000)")
    p.add_argument("--fresh", type=int, default=1000, help="new calls suggested for (1000)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL")
    p.add_argument("--database", default="yimen_dispatch_bench", help="created, then dropped")
    p.add_argument("--compare", action="store_true", help="also the variants (no database)")
    p.add_argument("--keep", action="store_true", help="keep the database (print where)")
    return p.parse_args(argv)


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --- the scene -------------------------------------------------------------------------------


def scene(args):
    """Regions, units, the demo taxonomy and the closed orders, written directly."""
    from django.db import transaction
    from django.utils import timezone

    from bench.dispatch import corpus
    from bench.kb.corpus import DISTRICTS
    from yimen.common.identifiers import uscc_check_char
    from yimen.demo.hotline import taxonomy_rows
    from yimen.hotline.choices import OrderChannel, OrderStatus, OrderType, Resolution
    from yimen.hotline.models import Category, WorkOrder
    from yimen.org.choices import RegionLevel
    from yimen.org.models import Department, Region

    city = Region.objects.create(code="440600000000", name="佛山市", level=RegionLevel.CITY)
    districts = {
        name: Region.objects.create(
            code=f"4406{n:02d}000000", name=name, level=RegionLevel.DISTRICT, parent=city
        )
        for n, name in enumerate(sorted(DISTRICTS), start=4)
    }
    units = {}
    for n, key in enumerate(corpus.units(), start=1):
        first17 = f"11440600DB{n:07d}"
        district, _, local = key.partition("/")
        units[key] = Department.objects.create(
            name=key if not local else f"{district}{local}",
            region=districts[district] if local else city,
            parent=units.get(local) if local else None,
            uscc=first17 + uscc_check_char(first17),
        )
    leaves = {}
    by_code = {}
    for code, name, parent, unit, order in taxonomy_rows():
        node = Category.objects.create(
            code=code,
            name=name,
            parent=by_code.get(parent),
            level=len(code) // 2,
            default_unit=units.get(unit) if unit else None,
            order=order,
        )
        by_code[code] = node
        if unit:
            leaves[name] = node
    now = timezone.now()
    orders = corpus.generated(args.orders, seed=args.seed)
    rows = [
        WorkOrder(
            number=f"B{n:012d}",
            channel=OrderChannel.PHONE,
            order_type=OrderType.COMPLAINT,
            title=o.title,
            content=o.content,
            address=o.address,
            district=districts[o.district],
            received_at=now,
            closed_at=now,
            status=OrderStatus.CLOSED,
            resolution=Resolution.HANDLED,
            lead_unit=units[o.unit],
            category=leaves[o.leaf],
        )
        for n, o in enumerate(orders)
    ]
    with transaction.atomic():
        WorkOrder.objects.bulk_create(rows, batch_size=2000)
    return units, leaves, districts


# --- the figures -----------------------------------------------------------------------------


def measure(args, units, leaves, districts) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.dispatch import corpus
    from yimen.hotline import dispatch, search

    search.load_dictionary()
    say(f"training on {args.orders} orders")
    started = time.monotonic()
    model = dispatch.train(seed=args.seed)
    train_seconds = time.monotonic() - started
    figures = model.figures

    dispatch.forget()
    started = time.perf_counter()
    loaded = dispatch.current()
    load_ms = (time.perf_counter() - started) * 1000

    fresh = corpus.fresh(args.fresh, seed=args.seed)
    say(f"suggesting for {len(fresh)} new calls")
    unit_pk = {key: u.pk for key, u in units.items()}
    calls = []
    for o in fresh:
        text = dispatch.order_text(o.title, o.content, o.address)
        calls.append((text, leaves[o.leaf], districts[o.district], unit_pk[o.unit], o.leaf))
    for text, leaf, district, _u, _l in calls[:50]:  # warm-up
        dispatch.suggest(text=text, category=leaf, district=district)

    latency, hits1, hits3, rule_hits, cat1, cat3 = [], 0, 0, 0, 0, 0
    cat_latency = []
    for text, leaf, district, truth, leaf_name in calls:
        started = time.perf_counter()
        found = dispatch.suggest(text=text, category=leaf, district=district)
        latency.append((time.perf_counter() - started) * 1000)
        ids = [s.unit.pk for s in found]
        hits1 += ids[:1] == [truth]
        hits3 += truth in ids[:3]
        rule_hits += leaf.default_unit_id == truth
        started = time.perf_counter()
        cats = dispatch.suggest_categories(text=text)
        cat_latency.append((time.perf_counter() - started) * 1000)
        names = [c.name for c, _p in cats]
        cat1 += names[:1] == [leaf_name]
        cat3 += leaf_name in names[:3]
    n = len(calls)
    with CaptureQueriesContext(connection) as captured:
        dispatch.suggest(text=calls[0][0], category=calls[0][1], district=calls[0][2])

    # The fallback rule's threshold: the category's default unit in the last place when the
    # model's best probability is under t (the model's own ranking, no database).
    policies = {}
    for text, leaf, district, truth, _l in calls:
        ranked = loaded.units(dispatch.document(text, district.name))
        best = ranked[0][1]
        ids = [u for u, _p in ranked][:3]
        rule = leaf.default_unit_id
        for t in (0.0, 0.3, 0.5, 0.7, 1.01):
            picked = ids if best >= t or rule in ids else [*ids[:2], rule]
            first = [rule, *[u for u in ids if u != rule]][:3] if best < t else ids
            for name, chosen in ((f"last<{t}", picked), (f"first<{t}", first)):
                top1, top3 = policies.get(name, (0, 0))
                policies[name] = (top1 + (chosen[:1] == [truth]), top3 + (truth in chosen))

    load = os.getloadavg()
    print()
    print(
        f"dispatch model on {connection.vendor}: {figures.orders} closed orders, "
        f"{figures.units} units, {figures.categories} categories; trained (evaluate + refit) "
        f"in {train_seconds:.1f} s; artifact {len(model.artifact) / 1e6:.2f} MB "
        f"({len(loaded.vectoriser.vocabulary_)} features), loaded in {load_ms:.0f} ms"
    )
    print(
        f"held out {figures.test_size} of them: unit top-1 {figures.unit_top1:.1%} "
        f"top-3 {figures.unit_top3:.1%} · category top-1 {figures.category_top1:.1%} "
        f"top-3 {figures.category_top3:.1%}"
    )
    print(
        f"{n} new calls, suggest(text, category, district): unit top-1 {hits1 / n:.1%} "
        f"top-3 {hits3 / n:.1%}; the category's default unit alone: {rule_hits / n:.1%}; "
        f"suggest_categories: top-1 {cat1 / n:.1%} top-3 {cat3 / n:.1%}"
    )
    print(f"{len(captured)} SQL queries per suggestion once the model is loaded")
    print()
    head = f"{'':36} {'n':>6} {'mean':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}   (ms)"
    print(head)
    print("-" * len(head))
    for name, values in (("suggest() (limit 3)", latency), ("suggest_categories()", cat_latency)):
        print(
            f"{name:36} {len(values):>6} {statistics.fmean(values):>7.2f} "
            f"{percentile(values, 50):>7.2f} {percentile(values, 95):>7.2f} "
            f"{percentile(values, 99):>7.2f} {max(values):>7.2f}"
        )
    print()
    print("the category rule beside the model (the agent filed the call under its leaf):")
    for name, (top1, top3) in policies.items():
        print(f"  rule {name:10} top-1 {top1 / n:.1%} top-3 {top3 / n:.1%}")
    print(
        f"goal: < 20 ms per suggestion. Load average {load[0]:.1f} on {os.cpu_count()} CPUs "
        f"during the run."
    )


def compare(args) -> None:
    """The variants the service was chosen from, on the same corpus: word uni-/bigrams,
    character n-grams of the raw text or of the words, their union; SGD and multinomial
    logistic regression. Two tests: new orders worded like the training ones (a random
    split), and orders whose subject is worded in a way never seen in training (each
    subject's last wording held out)."""
    import warnings

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    from bench.dispatch import corpus
    from yimen.hotline import dispatch

    warnings.filterwarnings("ignore")
    n = args.orders
    full = dict(corpus.SUBJECTS)
    both = corpus.generated(n + n // 4, seed=args.seed)
    corpus.SUBJECTS = {k: v[:-1] for k, v in full.items()}
    seen = corpus.generated(n, seed=args.seed)
    corpus.SUBJECTS = {k: v[-1:] for k, v in full.items()}
    unseen = corpus.generated(n // 4, seed=args.seed + 1)
    corpus.SUBJECTS = full

    def prepared(orders):
        raw = [
            dispatch.order_text(o.title, o.content, o.address) + "\n" + o.district for o in orders
        ]
        return list(zip(raw, [dispatch.document(r) for r in raw], strict=True))

    say("tokenising")
    tests = {
        "same wording": (both[:n], both[n:]),
        "new wording": (seen, unseen),
    }
    data = {name: (tr, te, prepared(tr), prepared(te)) for name, (tr, te) in tests.items()}
    raw = FunctionTransformer(lambda pairs: [p[0] for p in pairs])
    words = FunctionTransformer(lambda pairs: [p[1] for p in pairs])

    def tfidf(**options):
        return TfidfVectorizer(min_df=2, sublinear_tf=True, lowercase=False, **options)

    split_words = {"tokenizer": str.split, "token_pattern": None}
    variants = {
        "words 1": lambda: make_pipeline(words, tfidf(ngram_range=(1, 1), **split_words)),
        "words 1-2": lambda: make_pipeline(words, tfidf(ngram_range=(1, 2), **split_words)),
        "chars 1-2 of the raw text": lambda: make_pipeline(raw, tfidf(analyzer="char")),
        "chars 1-3 of the raw text": lambda: make_pipeline(
            raw, tfidf(analyzer="char", ngram_range=(1, 3))
        ),
        "chars 1-2 of the words (chosen)": lambda: make_pipeline(
            words, tfidf(analyzer="char_wb", ngram_range=(1, 2))
        ),
        "words 1 + chars 1-2 of the words": lambda: make_union(
            make_pipeline(words, tfidf(ngram_range=(1, 1), **split_words)),
            make_pipeline(words, tfidf(analyzer="char_wb", ngram_range=(1, 2))),
        ),
    }
    classifiers = {
        f"SGD log-loss α={dispatch.ALPHA:g}": lambda: SGDClassifier(
            loss="log_loss", alpha=dispatch.ALPHA, random_state=args.seed
        ),
        "LogisticRegression C=2": lambda: LogisticRegression(C=2, max_iter=300),
    }

    def top(p, classes, truth, k):
        return dispatch.top_k(p, np.asarray(classes), truth, k)

    print()
    print(f"variants on {n} orders (top-1 / top-3 of the unit and of the category):")
    print(f"{'':56} {'same wording':>27}   {'new wording':>27}   fit")
    for cname, make_classifier in classifiers.items():
        for vname, make_features in variants.items():
            if cname.startswith("Logistic") and "chosen" not in vname and vname != "words 1-2":
                continue
            cells, spent = [], 0.0
            for tname in tests:
                tr, te, ptr, pte = data[tname]
                features = make_features()
                x_train, x_test = features.fit_transform(ptr), features.transform(pte)
                for label in ("unit", "leaf"):
                    truth_train = [getattr(o, label) for o in tr]
                    truth_test = [getattr(o, label) for o in te]
                    started = time.monotonic()
                    classifier = make_classifier().fit(x_train, truth_train)
                    spent += time.monotonic() - started
                    p = classifier.predict_proba(x_test)
                    cells.append(
                        f"{top(p, classifier.classes_, truth_test, 1):.3f}/"
                        f"{top(p, classifier.classes_, truth_test, 3):.3f}"
                    )
            print(
                f"{vname + ', ' + cname:56} {cells[0]} {cells[1]}   {cells[2]} {cells[3]}   "
                f"{spent:.1f}s"
            )


# --- the run ---------------------------------------------------------------------------------


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    scratch = Path(tempfile.mkdtemp(prefix="yimen-dispatch-bench-"))
    if args.db == "postgres":
        url = f"{args.pg}/{args.database}"
    else:
        url = f"sqlite:///{scratch / 'dispatch.sqlite3'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "yimen.settings",
            "DATABASE_URL": url,
            "DEBUG": "false",
            "YIMEN_VAR_DIR": str(scratch),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
        }
    )
    created = False
    try:
        if args.db == "postgres":
            from bench.kb.run import create_pg

            say(f"creating {url}")
            create_pg(args)
            created = True
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        say(f"writing {args.orders} closed orders")
        units, leaves, districts = scene(args)
        measure(args, units, leaves, districts)
        if args.compare:
            compare(args)
        connections.close_all()
        if args.keep:
            print(f"\nkept: {url}")
        return 0
    finally:
        if created and not args.keep:
            from django.db import connections

            from bench.kb.run import drop_pg

            connections.close_all()
            drop_pg(args)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
