"""Importing a year from the State Council notice: the CSV, the checks, the command, the task."""

import datetime as dt
import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from yimen.common import workdays
from yimen.common.calendar_import import (
    CalendarImportError,
    CalendarRow,
    import_year,
    numbered,
    read_calendar_csv,
)
from yimen.common.clocks import clock_start
from yimen.common.models import AuditEvent, CalendarDay, CalendarYear, Clock
from yimen.common.tasks import check_calendar_coverage

pytestmark = pytest.mark.django_db

NOTICE = "国务院办公厅关于2027年部分节假日安排的通知"
GOOD_CSV = """date,kind,name
2027-01-01,holiday,元旦
2027-02-06,班,春节
2027-02-07,workday,春节

2027-02-10,休,春节
"""


@pytest.fixture
def importer():
    return get_user_model().objects.create_user(username="calendar-admin", password="x")


def csv_file(tmp_path, text, *, encoding="utf-8"):
    path = tmp_path / "calendar.csv"
    path.write_bytes(text.encode(encoding))
    return path


def problems(error):
    return [(e.line, e.column) for e in error.value.row_errors]


# --- reading the CSV ------------------------------------------------------------------------


def test_reading_keeps_the_file_line_numbers_and_skips_blank_lines():
    rows = read_calendar_csv(io.BytesIO(GOOD_CSV.encode()))
    assert [row.line for row in rows] == [2, 3, 4, 6]
    assert rows[0] == CalendarRow(2, ("2027-01-01", "holiday", "元旦"))


def test_a_byte_order_mark_is_accepted():
    rows = read_calendar_csv(io.BytesIO(GOOD_CSV.encode("utf-8-sig")))
    assert len(rows) == 4


def test_a_wrong_header_is_reported_on_its_line():
    with pytest.raises(CalendarImportError) as error:
        read_calendar_csv(io.BytesIO("日期,类型,名称\n2027-01-01,休,元旦\n".encode()))
    assert problems(error) == [(1, "header")]


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(CalendarImportError) as error:
        read_calendar_csv(io.BytesIO(GOOD_CSV.encode("gb18030")))
    assert problems(error) == [(0, "file")]


# --- importing ------------------------------------------------------------------------------


def test_a_good_import_makes_the_year_known(importer):
    # When the 2027 notice is imported
    summary = import_year(
        year=2027,
        rows=read_calendar_csv(io.BytesIO(GOOD_CSV.encode())),
        notice=NOTICE,
        actor=importer,
    )
    # then the year is known from the notice, with its days, Chinese kinds included
    assert (summary.holidays, summary.workdays, summary.replaced) == (2, 2, 0)
    year = CalendarYear.objects.get(year=2027)
    assert (year.source, year.notice, year.imported_by) == ("notice", NOTICE, importer)
    assert dict(CalendarDay.objects.filter(date__year=2027).values_list("date", "kind")) == {
        dt.date(2027, 1, 1): "holiday",
        dt.date(2027, 2, 6): "workday",
        dt.date(2027, 2, 7): "workday",
        dt.date(2027, 2, 10): "holiday",
    }
    # and the calendar answers from it at once, confirmed
    assert not workdays.is_workday(dt.date(2027, 1, 1))
    assert workdays.add_workdays(dt.date(2026, 12, 31), 1) == workdays.DayResult(
        dt.date(2027, 1, 4), True
    )


def test_an_import_writes_one_audit_event(importer):
    import_year(
        year=2027, rows=numbered([("2027-01-01", "休", "元旦")]), notice=NOTICE, actor=importer
    )
    event = AuditEvent.objects.get()
    assert (event.object_type, event.action, event.actor) == (
        "common.calendaryear",
        "calendar.import",
        importer,
    )
    assert (event.from_state, event.to_state, event.reason) == ("", "notice", NOTICE)
    assert event.payload == {"holidays": 1, "workdays": 0, "replaced": 0}


def test_reimporting_a_seeded_year_replaces_its_days():
    # Given 2026 is seeded from the package (39 days)
    seeded = CalendarDay.objects.filter(date__year=2026).count()
    # when a notice with only National Day is imported over it
    rows = numbered([(f"2026-10-0{day}", "holiday", "国庆节") for day in range(1, 8)])
    summary = import_year(year=2026, rows=rows, notice="2026 notice")
    # then only those days are left, and the audit event remembers the seed
    assert summary.replaced == seeded
    assert CalendarDay.objects.filter(date__year=2026).count() == 7
    assert CalendarYear.objects.get(year=2026).source == "notice"
    assert AuditEvent.objects.get().from_state == "seed"
    assert CalendarDay.objects.filter(date__year=2025).exists()  # other years untouched


def test_every_bad_row_is_reported_and_nothing_is_written():
    # Given a file with one good row and one mistake of each kind
    text = """date,kind,name
2027-01-01,holiday,元旦
2027-13-01,holiday,bad date
2026-12-31,holiday,last year
2027-02-10,off,unknown kind
2027-01-01,holiday,again
2027-02-08,workday,make-up on a Monday
2027-02-09,holiday,春节,extra
2027-03-01,holiday,{long}
""".format(long="节" * 65)
    # when it is imported
    with pytest.raises(CalendarImportError) as error:
        import_year(year=2027, rows=read_calendar_csv(io.BytesIO(text.encode())), notice=NOTICE)
    # then each bad row is reported with its line and column
    assert problems(error) == [
        (3, "date"),
        (4, "date"),
        (5, "kind"),
        (6, "date"),
        (7, "kind"),
        (8, "row"),
        (9, "name"),
    ]
    assert "already on line 2" in str(error.value.row_errors[3])
    # and nothing at all was written
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert not AuditEvent.objects.exists()


def test_a_bad_reimport_leaves_the_year_as_it_was():
    before = list(CalendarDay.objects.filter(date__year=2026).values_list("date", "kind"))
    rows = numbered([("2026-10-01", "holiday", "国庆节"), ("2026-10-32", "holiday", "")])
    with pytest.raises(CalendarImportError):
        import_year(year=2026, rows=rows, notice="2026 notice")
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", "kind")) == before
    assert CalendarYear.objects.get(year=2026).source == "seed"


def test_an_empty_file_is_refused():
    with pytest.raises(CalendarImportError) as error:
        import_year(year=2027, rows=[], notice=NOTICE)
    assert problems(error) == [(0, "file")]


@pytest.mark.parametrize(("year", "notice"), [(1999, NOTICE), (2027, ""), (2027, "x" * 201)])
def test_the_year_and_notice_are_checked(year, notice):
    with pytest.raises(ValidationError):
        import_year(year=year, rows=numbered([("2027-01-01", "holiday", "")]), notice=notice)


# --- the commands ---------------------------------------------------------------------------


def test_the_import_command_reports_bad_rows_and_fails(tmp_path):
    path = csv_file(tmp_path, "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-32,holiday,x\n")
    stderr = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command(
            "import_calendar", str(path), year=2027, notice=NOTICE, no_progress=True, stderr=stderr
        )
    assert error.value.returncode == 1
    assert "line 3, date" in stderr.getvalue()
    assert "nothing was imported" in str(error.value)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_import_command_imports_a_good_file(tmp_path, importer):
    path = csv_file(tmp_path, GOOD_CSV)
    stdout = io.StringIO()
    call_command(
        "import_calendar",
        str(path),
        "--year=2027",
        f"--notice={NOTICE}",
        "--user=calendar-admin",
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert "Imported 2027: 2 holidays and 2 make-up working days" in stdout.getvalue()
    assert CalendarYear.objects.get(year=2027).imported_by == importer


def test_the_import_command_fails_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_calendar", str(tmp_path / "none.csv"), year=2027, notice=NOTICE)
    assert error.value.returncode == 1


def test_the_status_command_warns_about_next_year():
    stdout = io.StringIO()
    call_command("calendar_status", today="2026-11-23", stdout=stdout)
    output = stdout.getvalue()
    assert "Known years: 2004–2026" in output
    assert "2026 (chinesecalendar package): 33 holidays, 6 make-up working days" in output
    assert "2027: not known" in output
    assert "the calendar of 2027 is missing" in output


def test_the_status_command_is_quiet_once_next_year_is_imported():
    import_year(year=2027, rows=numbered([("2027-01-01", "holiday", "元旦")]), notice=NOTICE)
    stdout = io.StringIO()
    call_command("calendar_status", today="2026-11-23", stdout=stdout)
    assert "Known years: 2004–2027" in stdout.getvalue()
    assert "missing" not in stdout.getvalue()


# --- the daily task -------------------------------------------------------------------------


def test_the_coverage_task_logs_the_missing_year(monkeypatch, caplog):
    monkeypatch.setattr(workdays.timezone, "localdate", lambda **kwargs: dt.date(2026, 11, 23))
    with caplog.at_level(logging.WARNING, logger="yimen.common.tasks"):
        assert check_calendar_coverage() == [2027]
    assert "missing 2027" in caplog.text


def test_the_coverage_task_is_silent_when_covered(monkeypatch, caplog):
    monkeypatch.setattr(workdays.timezone, "localdate", lambda **kwargs: dt.date(2026, 9, 1))
    with caplog.at_level(logging.WARNING, logger="yimen.common.tasks"):
        assert check_calendar_coverage() == []
    assert caplog.text == ""


# --- the admin ------------------------------------------------------------------------------


def test_an_admin_edit_of_a_day_is_seen_at_once_and_audited(admin_client):
    # Given the cached calendar says 2026-10-01 is off
    assert not workdays.is_workday(dt.date(2026, 10, 1))
    day = CalendarDay.objects.get(date=dt.date(2026, 10, 1))
    # when an administrator turns it into a make-up working day
    response = admin_client.post(
        f"/admin/common/calendarday/{day.pk}/change/",
        {"date": "2026-10-01", "kind": "workday", "name": "国庆节"},
    )
    assert response.status_code == 302
    # then the calendar answers from the change, and the edit is in the audit chain
    assert workdays.is_workday(dt.date(2026, 10, 1))
    edit = AuditEvent.objects.get(object_type="common.calendarday")
    assert (edit.action, edit.object_id) == ("admin.change", str(day.pk))


def test_adding_a_year_in_the_admin_confirms_waiting_clocks(admin_client):
    started = dt.datetime(2026, 12, 21, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    clock = clock_start(purpose="case.decision", unit="workdays", limit=10, started_at=started)
    assert not Clock.objects.get(pk=clock.pk).calendar_confirmed
    response = admin_client.post(
        "/admin/common/calendaryear/add/", {"year": "2027", "source": "manual", "notice": ""}
    )
    assert response.status_code == 302
    assert Clock.objects.get(pk=clock.pk).calendar_confirmed
