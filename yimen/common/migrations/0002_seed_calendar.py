"""Seed the working-day calendar from the chinesecalendar package (2004–2026 in 1.11).

Every date the package lists as a holiday or a make-up working day becomes a CalendarDay,
and every year it covers a CalendarYear with source "seed". Years or dates already present
are left alone, so running it after an import never overwrites an administrator's work.
The reverse deletes the seeded years and their days.
"""

from django.db import migrations

from yimen.common.workdays import holiday_name_zh


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarYear = apps.get_model("common", "CalendarYear")
    CalendarDay = apps.get_model("common", "CalendarDay")
    listed = [(day, "holiday", name) for day, name in chinese_calendar.holidays.items()]
    listed += [(day, "workday", name) for day, name in chinese_calendar.workdays.items()]
    years = {day.year for day, _kind, _name in listed}
    years -= set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarYear.objects.bulk_create(
        CalendarYear(year=year, source="seed") for year in sorted(years)
    )
    CalendarDay.objects.bulk_create(
        (
            CalendarDay(date=day, kind=kind, name=holiday_name_zh(name))
            for day, kind, name in sorted(listed)
            if day.year in years and day not in existing
        ),
        batch_size=500,
    )


def unseed(apps, schema_editor):
    CalendarYear = apps.get_model("common", "CalendarYear")
    CalendarDay = apps.get_model("common", "CalendarDay")
    seeded = CalendarYear.objects.filter(source="seed")
    years = list(seeded.values_list("year", flat=True))
    CalendarDay.objects.filter(date__year__in=years).delete()
    seeded.delete()


class Migration(migrations.Migration):
    dependencies = [("common", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed, elidable=False)]
