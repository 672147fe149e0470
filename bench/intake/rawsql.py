"""The raw-SQL baseline: the rows a submission writes, inserted with psycopg and no framework.

A submission writes six rows (the case, a row per material, the acceptance clock, the receipt
document and the audit event), takes the next case number from the region's day counter and
moves the audit chain's head. Both variants here do the same, so the numbers stay gap-free
and the audit chain stays verifiable:

- `per_case`: one transaction per case from as many connections as the HTTP client has
  threads: the same work and the same serialisation points (the counter row, the audit head)
  without Django, DRF, HTTP or the files;
- `bulk`: every case in one transaction, the rows sent with COPY: what the database itself
  can take.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

ROWS_PER_CASE = 6  # case, two materials, clock, document, audit event
GENESIS = "0" * 64


@dataclass
class Result:
    cases: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.cases * ROWS_PER_CASE


def sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def _canonical(record: dict) -> bytes:
    return json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


class Rows:
    """The values of one case's rows, as the services would write them."""

    def __init__(self, scene, n: int, file_size: int, clock_type: int):
        self.scene, self.n, self.file_size, self.clock_type = scene, n, file_size, clock_type
        self.applicant_id, self.user_id, self.username = scene.applicants[n % len(scene.applicants)]
        self.now = dt.datetime.now(dt.UTC)

    def case(self, number: str, clock_id: int, case_id: int | None = None) -> tuple:
        values = (
            uuid.uuid4(),
            number,
            "online",
            "received",
            Jsonb({"shop_name": f"示例小店{self.n}"}),
            f"raw-{self.n}-{secrets.token_hex(6)}",
            self.now,
            self.now,
            False,
            "",
            "",
            "",
            "",
            "",
            clock_id,
            self.applicant_id,
            self.scene.department_id,
            self.scene.version_id,
            self.scene.region_id,
            self.user_id,
            self.scene.window_category_id,
        )
        return values if case_id is None else (case_id, *values)

    def materials(self, case_id: int) -> list[tuple]:
        names = ("申请书.pdf", "场所证明.pdf")
        return [
            (
                "provided",
                f"cases/{self.now:%Y/%m}/{name}",
                name,
                self.file_size,
                secrets.token_hex(32),
                False,
                "",
                self.now,
                case_id,
                material_id,
                self.user_id,
            )
            for name, material_id in zip(names, self.scene.material_ids, strict=False)
        ]

    def clock(self, case_id: int | str) -> tuple:
        due = self.now + dt.timedelta(days=7)
        return (
            "case.acceptance",
            str(case_id),
            "workdays",
            5,
            self.now,
            "running",
            due,
            True,
            self.clock_type,
        )

    def document(self, case_id: int, number: str) -> tuple:
        content = {
            "kind": "receipt",
            "title": "材料接收凭证",
            "case_number": number,
            "applicant": f"申请人{self.n}",
            "applicant_kind": "person",
            "applicant_identifier": "440604********123X",
            "item": "个体工商户设立登记",
            "item_code": self.scene.implementation_code,
            "item_version": 1,
            "department": "禅城区市场监督管理局",
            "submitted_at": self.now.isoformat(),
            "issued_at": self.now.isoformat(),
            "received_at": self.now.isoformat(),
            "materials": [
                {"material": "申请书", "file": "申请书.pdf", "original": False},
                {"material": "场所证明", "file": "场所证明.pdf", "original": False},
            ],
            "number": f"{number}-01",
        }
        digest = sm3(_canonical(content))
        return (
            "receipt",
            secrets.token_urlsafe(12),
            Jsonb(content),
            digest,
            self.now,
            case_id,
            self.user_id,
        )

    def audit(self, case_id: int, prev_hash: str, event_id: int | None = None) -> tuple:
        record = {
            "id": event_id,
            "occurred_at": self.now.isoformat(),
            "actor": self.user_id,
            "actor_label": f"申请人{self.n}",
            "channel": "online",
            "object_type": "cases.case",
            "object_id": str(case_id),
            "action": "case.submit",
            "to_state": "received",
        }
        digest = sm3(prev_hash.encode() + _canonical(record))
        values = (
            self.now,
            f"申请人{self.n}",
            "",
            "online",
            "cases.case",
            str(case_id),
            "case.submit",
            "",
            "received",
            "",
            Jsonb({}),
            prev_hash,
            digest,
            self.user_id,
        )
        return values if event_id is None else (event_id, *values)


CASE_COLUMNS = (
    "public_id, number, channel, status, form_data, idempotency_key, submitted_at, received_at, "
    "deemed_accepted, decision_reason, delivery_method, tracking_number, close_reason, "
    "rating_comment, acceptance_clock_id, applicant_id, department_id, item_version_id, "
    "region_id, submitted_by_id, window_category_id"
)
MATERIAL_COLUMNS = (
    "state, file, file_name, size, sha256, original_seen, note, updated_at, case_id, "
    "material_id, updated_by_id"
)
CLOCK_COLUMNS = (
    'purpose, subject_id, unit, "limit", started_at, status, due_at, calendar_confirmed, '
    "subject_type_id"
)
DOCUMENT_COLUMNS = "kind, code, content, digest, issued_at, case_id, issued_by_id"
AUDIT_COLUMNS = (
    "occurred_at, actor_label, role, channel, object_type, object_id, action, from_state, "
    "to_state, reason, payload, prev_hash, hash, actor_id"
)


def _marks(columns: str) -> str:
    return ", ".join(["%s"] * len(columns.split(",")))


def _counter(cursor, prefix: str, day: dt.date, count: int) -> int:
    """Takes `count` numbers of the region's day; returns the last one (the row stays locked
    to the end of the transaction, as in the service)."""
    cursor.execute(
        "INSERT INTO cases_casecounter (region_prefix, day, last) VALUES (%s, %s, 0) "
        "ON CONFLICT (region_prefix, day) DO NOTHING",
        (prefix, day),
    )
    cursor.execute(
        "UPDATE cases_casecounter SET last = last + %s WHERE region_prefix = %s AND day = %s "
        "RETURNING last",
        (count, prefix, day),
    )
    return cursor.fetchone()[0]


def _number(prefix: str, day: dt.date, n: int) -> str:
    return f"{prefix}-{day:%Y%m%d}-{n:05d}"


def _clock_type(conninfo: str) -> int:
    with psycopg.connect(conninfo) as connection:
        return connection.execute(
            "SELECT id FROM django_content_type WHERE app_label = 'cases' AND model = 'case'"
        ).fetchone()[0]


def _one_case(connection, scene, n: int, file_size: int, clock_type: int, day: dt.date) -> None:
    rows = Rows(scene, n, file_size, clock_type)
    with connection.transaction(), connection.cursor() as cursor:
        number = _number(scene.region_prefix, day, _counter(cursor, scene.region_prefix, day, 1))
        cursor.execute(
            f"INSERT INTO common_clock ({CLOCK_COLUMNS}) VALUES ({_marks(CLOCK_COLUMNS)}) "
            "RETURNING id",
            rows.clock(""),
        )
        clock_id = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO cases_case ({CASE_COLUMNS}) VALUES ({_marks(CASE_COLUMNS)}) RETURNING id",
            rows.case(number, clock_id),
        )
        case_id = cursor.fetchone()[0]
        cursor.execute("UPDATE common_clock SET subject_id = %s WHERE id = %s", (case_id, clock_id))
        cursor.executemany(
            f"INSERT INTO cases_casematerial ({MATERIAL_COLUMNS}) "
            f"VALUES ({_marks(MATERIAL_COLUMNS)})",
            rows.materials(case_id),
        )
        cursor.execute(
            f"INSERT INTO cases_casedocument ({DOCUMENT_COLUMNS}) "
            f"VALUES ({_marks(DOCUMENT_COLUMNS)})",
            rows.document(case_id, number),
        )
        cursor.execute("SELECT last_hash FROM common_audithead WHERE id = 1 FOR UPDATE")
        head = cursor.fetchone()
        prev = head[0] if head else GENESIS
        event = rows.audit(case_id, prev)
        cursor.execute(
            f"INSERT INTO common_auditevent ({AUDIT_COLUMNS}) VALUES ({_marks(AUDIT_COLUMNS)}) "
            "RETURNING id",
            event,
        )
        event_id = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE common_audithead SET last_id = %s, last_hash = %s, count = count + 1 "
            "WHERE id = 1",
            (event_id, event[12]),
        )


def per_case(
    conninfo: str, scene, *, cases: int, concurrency: int, file_size: int, first: int = 0
) -> Result:
    """Each case in its own transaction, from `concurrency` connections at once."""
    clock_type, day = _clock_type(conninfo), dt.date.today()
    result, lock, numbers = Result(), threading.Lock(), iter(range(first, first + cases))
    stop, errors = threading.Event(), []

    def loop():
        with psycopg.connect(conninfo) as connection:
            while not stop.is_set():
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                started = time.perf_counter()
                try:
                    _one_case(connection, scene, n, file_size, clock_type, day)
                except Exception as exc:
                    errors.append(exc)
                    stop.set()
                    return
                with lock:
                    result.latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        raise
    result.seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    result.cases = len(result.latencies)
    return result


def _ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in cursor.fetchall()]


def _copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def bulk(conninfo: str, scene, *, cases: int, file_size: int, first: int = 0) -> Result:
    """Every case in one transaction, each table's rows in one COPY."""
    clock_type, day = _clock_type(conninfo), dt.date.today()
    started = time.perf_counter()
    with psycopg.connect(conninfo) as connection, connection.transaction():
        cursor = connection.cursor()
        last = _counter(cursor, scene.region_prefix, day, cases)
        numbers = [_number(scene.region_prefix, day, k) for k in range(last - cases + 1, last + 1)]
        rows = [Rows(scene, n, file_size, clock_type) for n in range(first, first + cases)]
        case_ids = _ids(cursor, "cases_case", cases)
        clock_ids = _ids(cursor, "common_clock", cases)
        event_ids = _ids(cursor, "common_auditevent", cases)
        cases_rows = list(zip(rows, case_ids, clock_ids, numbers, strict=True))
        _copy(
            cursor,
            "common_clock",
            f"id, {CLOCK_COLUMNS}",
            ((k, *r.clock(c)) for r, c, k, _no in cases_rows),
        )
        _copy(
            cursor,
            "cases_case",
            f"id, {CASE_COLUMNS}",
            (r.case(no, k, c) for r, c, k, no in cases_rows),
        )
        _copy(
            cursor,
            "cases_casematerial",
            MATERIAL_COLUMNS,
            (m for r, c, _k, _no in cases_rows for m in r.materials(c)),
        )
        _copy(
            cursor,
            "cases_casedocument",
            DOCUMENT_COLUMNS,
            (r.document(c, no) for r, c, _k, no in cases_rows),
        )
        cursor.execute("SELECT last_hash FROM common_audithead WHERE id = 1 FOR UPDATE")
        prev = (cursor.fetchone() or [GENESIS])[0]
        events = []
        for r, c, e in zip(rows, case_ids, event_ids, strict=True):
            events.append(r.audit(c, prev, e))
            prev = events[-1][13]
        _copy(cursor, "common_auditevent", f"id, {AUDIT_COLUMNS}", events)
        cursor.execute(
            "UPDATE common_audithead SET last_id = %s, last_hash = %s, count = count + %s "
            "WHERE id = 1",
            (event_ids[-1], prev, cases),
        )
    return Result(cases=cases, seconds=time.perf_counter() - started)
