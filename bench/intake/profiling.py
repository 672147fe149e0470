"""Where a submission spends its time: the same request as the benchmark, made in-process
(Django's test client, no HTTP server) against a fresh PostgreSQL database, with every SQL
query captured and the whole run under cProfile.

    .venv/bin/python bench/intake/profiling.py --cases 200 [--queries] [--top 30]

Prints the queries of one submission, the time spent in SQL against the time in Python, and
the functions that take the most time (cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import client, run  # noqa: E402

# (label, depth, (file, function) of the part, (file, function) of its caller or None)
VIEW = ("yimen/cases/api/views.py", "post")
SUBMIT = ("yimen/cases/services.py", "case_submit")
CREATE = ("yimen/cases/services.py", "_create_case")
DETAIL = ("yimen/cases/api/views.py", "detail")
PHASES = [
    ("the view (CaseListView.post)", 0, VIEW, None),
    ("multipart parsing (request.data)", 1, ("rest_framework/request.py", "data"), VIEW),
    ("idempotency look-up in the view", 1, ("django/db/models/query.py", "first"), VIEW),
    ("input validation (the serializer)", 1, ("rest_framework/serializers.py", "is_valid"), VIEW),
    ("who submits (api.permissions.submitter)", 1, ("cases/api/permissions.py", "submitter"), VIEW),
    ("services.case_submit", 1, SUBMIT, None),
    ("idempotency look-up again", 2, ("django/db/models/query.py", "first"), SUBMIT),
    ("form and file checks", 2, ("yimen/cases/services.py", "_clean_form"), SUBMIT),
    ("", 2, ("yimen/cases/services.py", "_check_uploads"), SUBMIT),
    ("_create_case (the counter row is locked from here)", 2, CREATE, None),
    ("next_number", 3, ("yimen/cases/services.py", "next_number"), CREATE),
    ("INSERT the case", 3, ("django/db/models/manager.py", "manager_method"), CREATE),
    (
        "_store_uploads (files written, rows)",
        3,
        ("yimen/cases/services.py", "_store_uploads"),
        CREATE,
    ),
    (
        "_mark_received (clock, receipt document)",
        3,
        ("yimen/cases/services.py", "_mark_received"),
        CREATE,
    ),
    ("UPDATE the case", 3, ("django/db/models/base.py", "save"), CREATE),
    ("_record (the audit chain)", 3, ("yimen/cases/services.py", "_record"), CREATE),
    ("COMMIT", 2, ("django/db/transaction.py", "__exit__"), SUBMIT),
    ("the response (CaseAccessMixin.detail)", 1, DETAIL, None),
    ("loading the case again (5 queries)", 2, ("django/db/models/query.py", "get"), DETAIL),
    (
        "clock pauses and extensions (2 queries)",
        2,
        ("yimen/cases/api/serializers.py", "load_clocks"),
        DETAIL,
    ),
    (
        "serialising the detail (history: 1 query)",
        2,
        ("rest_framework/serializers.py", "data"),
        DETAIL,
    ),
]


def _matches(key, where) -> bool:
    return key[0].endswith(where[0]) and key[2] == where[1]


def phases(stats: pstats.Stats, count: int) -> str:
    """Milliseconds per submission (under the profiler) in each part of the request."""
    table = stats.stats

    def cumulative(part, caller) -> float:
        total = 0.0
        for key, (_cc, _nc, _tt, ct, callers) in table.items():
            if not _matches(key, part):
                continue
            if caller is None:
                total += ct
            else:
                total += sum(v[3] for k, v in callers.items() if _matches(k, caller))
        return total

    whole = cumulative(("django/core/handlers/base.py", "get_response"), None)
    lines = [f"{'the whole request, from the first middleware':58} {whole / count * 1000:6.1f} ms"]
    label_of_last, last = "", 0.0
    for label, depth, part, caller in PHASES:
        seconds = cumulative(part, caller)
        if not label:  # added to the line above
            label, seconds = label_of_last, seconds + last
            lines.pop()
        label_of_last, last = label, seconds
        name = "  " * (depth + 1) + label
        lines.append(f"{name:58} {seconds / count * 1000:6.1f} ms {seconds / whole:6.1%}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=200)
    p.add_argument("--file-kb", type=int, default=16)
    p.add_argument("--top", type=int, default=30, help="functions listed (default 30)")
    p.add_argument("--queries", action="store_true", help="print the SQL of one submission")
    p.add_argument("--sort", default="cumulative", help="cProfile order (default cumulative)")
    p.add_argument("--callees", default="", help="also list what functions matching this call")
    p.add_argument("--pg", default=f"postgres://postgres@{run.HOST}:5432")
    p.add_argument("--database", default="yimen_bench_profile")
    args = p.parse_args(argv)
    args.keep = False
    scratch = Path(tempfile.mkdtemp(prefix="yimen-profile-"))
    conninfo = f"{args.pg}/{args.database}"
    env = {
        "DJANGO_SETTINGS_MODULE": "yimen.settings",
        "DATABASE_URL": conninfo,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "YIMEN_VAR_DIR": str(scratch),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
    }
    run.create_database(args)
    try:
        run.django_setup(env)
        from django.db import connection, connections
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench.intake import seed

        scene = seed.build(10)
        from yimen.accounts.models import User

        users = list(User.objects.filter(pk__in=[a[1] for a in scene.applicants]))
        browsers = []
        for user in users:
            browser = Client(enforce_csrf_checks=False)
            browser.force_login(user)
            browsers.append(browser)
        file = client.pdf(args.file_kb * 1024)

        def submit(n: int):
            body, content_type = client.multipart(
                {"item": scene.implementation_code, "form": f'{{"shop_name": "小店{n}"}}'},
                {"materials.0": ("申请书.pdf", file), "materials.1": ("场所证明.pdf", file)},
            )
            response = browsers[n % len(browsers)].generic(
                "POST",
                client.SUBMIT,
                body,
                content_type=content_type,
                headers={"Idempotency-Key": f"profile-{n}"},
            )
            assert response.status_code == 201, response.content[:500]

        for n in range(10):  # warm: imports, URL resolution, caches
            submit(n)
        with CaptureQueriesContext(connection) as one:
            submit(10)
        in_atomic = sum(1 for q in one.captured_queries if "SAVEPOINT" in q["sql"])
        print(f"one submission: {len(one)} queries ({in_atomic} savepoint statements)")
        if args.queries:
            for q in one.captured_queries:
                print(f"  {float(q['time']) * 1000:6.2f} ms  {q['sql'][:160]}")

        started, cpu = time.perf_counter(), time.process_time()
        for n in range(11, 11 + args.cases):
            submit(n)
        plain = (time.perf_counter() - started) / args.cases
        cpu = (time.process_time() - cpu) / args.cases
        print(
            f"one process, no profiler: {plain * 1000:.1f} ms a submission, "
            f"{cpu * 1000:.1f} ms of it on this process's CPU (the rest waits for PostgreSQL)"
        )
        first = 11 + args.cases
        with CaptureQueriesContext(connection) as timed:
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for n in range(first, first + args.cases):
                submit(n)
            profiler.disable()
            seconds = time.perf_counter() - started
        sql_seconds = sum(float(q["time"]) for q in timed.captured_queries)
        print(
            f"{args.cases} submissions in {seconds:.2f} s, one process: "
            f"{seconds / args.cases * 1000:.1f} ms each, of which SQL (round trips included) "
            f"{sql_seconds / args.cases * 1000:.1f} ms over "
            f"{len(timed) / args.cases:.1f} queries (timings under cProfile)"
        )
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
        print("where the time goes, per submission (under cProfile, which slows Python down):")
        print(phases(stats, args.cases))
        print()
        stats.print_stats(args.top)
        if args.callees:
            stats.print_callees(args.callees)
        print(out.getvalue())
        connections.close_all()
    finally:
        run.drop_database(args)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
