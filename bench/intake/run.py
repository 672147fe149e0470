"""The intake benchmark: cases submitted through the HTTP API, against the same
rows inserted with raw SQL, in one fresh PostgreSQL database.

    .venv/bin/python bench/intake/run.py --cases 2000 --applicants 200 --workers 4 \
        --concurrency 16

Creates the database, migrates it, sets up a published guide and the applicants, starts
gunicorn on a free port, signs every applicant in, submits the cases from a pool of threads,
then runs the raw-SQL baselines and prints the table. The database, gunicorn and the temporary
directory (media, static files) are removed at the end, also after Ctrl-C. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.intake import client, rawsql  # noqa: E402

HOST = "127.0.0.1"


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=2000, help="submissions timed (default 2000)")
    p.add_argument("--applicants", type=int, default=200, help="applicants (default 200)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    p.add_argument("--concurrency", type=int, default=16, help="client threads (default 16)")
    p.add_argument(
        "--file-kb", type=int, default=16, help="size of each of the two files (default 16)"
    )
    p.add_argument(
        "--login",
        choices=["session", "form"],
        default="session",
        help="session: sessions written in bulk, each applicant then gets the CSRF cookie from "
        "the login page (default); form: each applicant signs in through the login form "
        "(an Argon2 check each, about 0.1 s of CPU)",
    )
    p.add_argument("--warmup", type=int, default=50, help="untimed submissions first (default 50)")
    p.add_argument("--pg", default=f"postgres://postgres@{HOST}:5432", help="server URL")
    p.add_argument("--database", default="yimen_bench", help="created, then dropped")
    p.add_argument("--keep", action="store_true", help="keep the database (and print its URL)")
    return p.parse_args(argv)


STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --- the database ----------------------------------------------------------------------------


def _admin(args):
    return psycopg.connect(f"{args.pg}/postgres", autocommit=True)


def create_database(args) -> None:
    with _admin(args) as connection:
        name = sql.Identifier(args.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(args) -> None:
    with _admin(args) as connection:
        name = sql.Identifier(args.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def database_stats(conninfo: str) -> dict[str, int]:
    """The database's own counters: committed transactions and rows written."""
    with psycopg.connect(conninfo) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    return dict(zip(("commits", "inserted", "updated"), row, strict=True))


def _proc_cpu(pid: str) -> tuple[str, int, float]:
    """(command, parent pid, CPU seconds including reaped children) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        head, _paren, rest = f.read().rpartition(")")
    fields = rest.split()
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return head.partition("(")[2], int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by gunicorn (master and workers), by every PostgreSQL process
    of the machine, and by this script (the client); empty where /proc is missing."""
    found = {"server": 0.0, "database": 0.0}
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return {}
    for pid in pids:
        try:
            command, parent, seconds = _proc_cpu(pid)
        except (OSError, ValueError, IndexError):
            continue
        if int(pid) == server_pid or parent == server_pid:
            found["server"] += seconds
        elif command.startswith("postgres"):
            found["database"] += seconds
    times = os.times()
    found["client"] = times.user + times.system
    return found


# --- the application -------------------------------------------------------------------------


def django_setup(env: dict[str, str]):
    """Django in this process, on the benchmark's database: migrate, static files, the scene."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(args, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "yimen.wsgi",
        "-w",
        str(args.workers),
        "-b",
        f"{HOST}:{port}",
        "--chdir",
        str(ROOT),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    if args.threads > 1:
        command += ["--threads", str(args.threads)]
    with log.open("wb") as out:
        # Its own session: Ctrl-C reaches this script only, which then stops gunicorn itself.
        return subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True
        )


def wait_ready(server: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            if client.request(HOST, port, "GET", "/healthz").status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the figures -----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def table(args, api, api_cases: int, per_case, bulk, stats, cpu, load) -> str:
    api_rate = api_cases / api.seconds
    rows = [
        (
            f"HTTP API, gunicorn ×{args.workers}"
            + (f"×{args.threads} threads" if args.threads > 1 else "")
            + f", {args.concurrency} clients",
            api_cases,
            api.seconds,
            api_rate,
            percentile(api.latencies, 50),
            percentile(api.latencies, 99),
            "",
        ),
        (
            f"raw SQL, a transaction per case, {args.concurrency} connections",
            per_case.cases,
            per_case.seconds,
            per_case.cases / per_case.seconds,
            percentile(per_case.latencies, 50),
            percentile(per_case.latencies, 99),
            f"{api_rate / (per_case.cases / per_case.seconds):.1%}",
        ),
        (
            "raw SQL, bulk COPY in one transaction",
            bulk.cases,
            bulk.seconds,
            bulk.cases / bulk.seconds,
            None,
            None,
            f"{api_rate / (bulk.cases / bulk.seconds):.1%}",
        ),
    ]
    head = (
        f"{'':58} {'cases':>6} {'s':>7} {'cases/s':>8} {'rows/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'API ÷ it':>8}"
    )
    lines = [head, "-" * len(head)]
    for name, cases, seconds, rate, p50, p99, ratio in rows:
        ms = (lambda v: f"{v * 1000:7.1f}") if p50 is not None else (lambda v: f"{'–':>7}")
        lines.append(
            f"{name:58} {cases:6d} {seconds:7.2f} {rate:8.1f} {rate * rawsql.ROWS_PER_CASE:8.0f} "
            f"{ms(p50)} {ms(p99)} {ratio:>8}"
        )
    lines.append("")
    lines.append(
        f"per API submission, as PostgreSQL counted them: "
        f"{stats['commits'] / api_cases:.1f} transactions (a query outside one counts), "
        f"{stats['inserted'] / api_cases:.1f} rows inserted, "
        f"{stats['updated'] / api_cases:.1f} rows updated "
        f"(files: 2 × {args.file_kb} KB)"
    )
    if cpu and api_cases:
        spent = ", ".join(f"{who} {sec / api_cases * 1000:.1f}" for who, sec in cpu.items())
        busy = sum(cpu.values())
        lines.append(
            f"CPU ms per API submission: {spent}; these processes kept "
            f"{busy / api.seconds:.2f} of the {os.cpu_count()} CPUs busy (load average "
            f"{load[0]:.1f} before, {load[1]:.1f} after): with the CPUs to themselves, at most "
            f"≈{os.cpu_count() * api_cases / busy:.0f} submissions/s"
        )
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    conninfo = f"{args.pg}/{args.database}"
    scratch = Path(tempfile.mkdtemp(prefix="yimen-bench-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "yimen.settings",
        "DATABASE_URL": conninfo,
        "DEBUG": "false",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "YIMEN_VAR_DIR": str(scratch),  # MEDIA_ROOT and STATIC_ROOT live under it
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
    }
    server, created = None, False
    log = scratch / "gunicorn.log"
    try:
        say(f"creating {conninfo}")
        create_database(args)
        created = True
        django_setup(env)
        from django.db import connections

        from bench.intake import seed

        say(f"setting up a published guide and {args.applicants} applicants")
        scene = seed.build(args.applicants)
        connections.close_all()

        port = free_port()
        say(f"starting gunicorn: {args.workers} workers on {HOST}:{port}")
        server = start_gunicorn(args, env, port, log)
        wait_ready(server, port, log)

        if args.login == "form":
            say(f"signing {args.applicants} applicants in through the login form")

            def enter(username):
                return client.sign_in(HOST, port, username, seed.PASSWORD)
        else:
            say(f"{args.applicants} applicants: sessions, then the login page's CSRF cookie")
            keys = seed.sessions(scene)
            connections.close_all()

            def enter(username):
                return client.with_session(HOST, port, username, keys[username])

        with ThreadPoolExecutor(args.concurrency) as pool:
            people = list(pool.map(enter, [username for _a, _u, username in scene.applicants]))

        submitter = client.Submitter(scene.implementation_code, args.file_kb * 1024)
        stop = threading.Event()

        def work(job):
            n, who = job
            return submitter.submit(HOST, port, who, n)

        def jobs(first, count):
            return [(n, people[n % len(people)]) for n in range(first, first + count)]

        if args.warmup:
            say(f"warming up: {args.warmup} submissions")
            warm = client.run_pool(jobs(0, args.warmup), work, args.concurrency, stop)
            if warm.failures:
                raise RuntimeError(f"warm-up failed: {warm.first_failure}")

        before, cpu_before = database_stats(conninfo), cpu_seconds(server.pid)
        load_before = os.getloadavg()[0]
        say(f"submitting {args.cases} cases from {args.concurrency} threads")
        api = client.run_pool(jobs(args.warmup, args.cases), work, args.concurrency, stop)
        if api.failures:
            say(f"failures: {api.failures}; the first: {api.first_failure}")
        done = len(api.latencies)
        if not done:
            raise RuntimeError(f"no submission went through: {api.first_failure}")
        cpu_after, load = cpu_seconds(server.pid), (load_before, os.getloadavg()[0])
        cpu = {key: cpu_after[key] - cpu_before[key] for key in cpu_before}
        stop_gunicorn(server)  # its connections close, and report their counts
        time.sleep(0.5)
        after = database_stats(conninfo)
        stats = {key: after[key] - before[key] for key in before}

        say(f"raw SQL: {args.cases} cases, a transaction each, {args.concurrency} connections")
        first = args.warmup + args.cases
        size = args.file_kb * 1024
        per_case = rawsql.per_case(
            conninfo,
            scene,
            cases=args.cases,
            concurrency=args.concurrency,
            file_size=size,
            first=first,
        )  # fmt: skip
        say(f"raw SQL: {args.cases} cases in one COPY transaction")
        bulk = rawsql.bulk(
            conninfo, scene, cases=args.cases, file_size=size, first=first + args.cases
        )
        with psycopg.connect(conninfo) as connection:
            total, distinct = connection.execute(
                "SELECT count(*), count(DISTINCT number) FROM cases_case"
            ).fetchone()
            counted = connection.execute("SELECT sum(last) FROM cases_casecounter").fetchone()[0]
        expected = args.warmup + done + per_case.cases + bulk.cases
        if not total == distinct == counted == expected:
            say(
                f"warning: {total} cases ({expected} expected), {distinct} distinct numbers, "
                f"the counters at {counted}: numbers are not gap-free"
            )

        print()
        print(table(args, api, done, per_case, bulk, stats, cpu, load))
        if api.failures:
            print(f"failed submissions (left out of the figures): {api.failures}")
        if args.keep:
            print(f"\nkept: {conninfo}")
        return 1 if api.failures else 0
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
        if server is not None:
            stop_gunicorn(server)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created and not args.keep:
            try:
                drop_database(args)
            except Exception as exc:
                say(f"could not drop {args.database}: {exc}")
        shutil.rmtree(scratch, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
