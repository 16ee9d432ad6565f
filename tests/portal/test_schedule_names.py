"""The job schedules' names are data shown in the admin in either language: Chinese, then
English. Schedules stored under their former English-only names are renamed, edits kept."""

from __future__ import annotations

import pytest
from django.apps import apps
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from portal.schedules import FORMER_NAMES, SCHEDULES, ensure, rename_former
from tests.portal.test_permission_matrix import world as matrix_world

pytestmark = pytest.mark.django_db
world = matrix_world
HAN = range(0x4E00, 0xA000)


def test_every_schedule_is_named_in_chinese_then_english():
    for name, _task, _cron in SCHEDULES:
        chinese, english = name.split(" / ")
        assert any(ord(c) in HAN for c in chinese) and english.isascii(), name
    # Every former name is a schedule's; schedules added after the renaming had none.
    assert set(FORMER_NAMES.values()) <= {task for _name, task, _cron in SCHEDULES}


def test_schedules_under_former_names_are_renamed_keeping_their_edits():
    PeriodicTask.objects.all().delete()
    crontab = CrontabSchedule.objects.create(minute="15", hour="2", timezone="Asia/Shanghai")
    for old, task in FORMER_NAMES.items():
        PeriodicTask.objects.create(name=old, task=task, crontab=crontab, enabled=False)
    rename_former(apps)
    rows = {row.task: row for row in PeriodicTask.objects.all()}
    assert len(rows) == len(FORMER_NAMES) == PeriodicTask.objects.count()
    for name, task, _cron in SCHEDULES:
        if task in FORMER_NAMES.values():  # a schedule added later had no former name
            assert rows[task].name == name
            assert (rows[task].enabled, rows[task].crontab_id) == (False, crontab.pk)
    ensure(apps)  # a later ensure() adds only the schedules that had no former name
    assert PeriodicTask.objects.count() == len(SCHEDULES)
    kept = {row.task: row for row in PeriodicTask.objects.all()}
    assert all(kept[task].crontab_id == crontab.pk for task in FORMER_NAMES.values())


def test_a_former_name_beside_the_current_one_is_dropped():
    ensure(apps)
    crontab = CrontabSchedule.objects.first()
    old, task = next(iter(FORMER_NAMES.items()))
    PeriodicTask.objects.create(name=old, task=task, crontab=crontab)
    rename_former(apps)
    assert not PeriodicTask.objects.filter(name=old).exists()
    assert PeriodicTask.objects.filter(task=task).count() == 1


@pytest.mark.parametrize(
    ("lang", "nightly", "monthly"),
    [
        ("zh-hans", "在 01:05 (Asia/Shanghai)", "在 02:30, 每月的 5 号 (Asia/Shanghai)"),
        ("en", "At 01:05 (Asia/Shanghai)", "At 02:30, on day 5 of the month (Asia/Shanghai)"),
    ],
)
def test_a_schedule_is_told_in_words_in_the_readers_language_in_24_hour_time(
    lang, nightly, monthly
):
    from django.utils import translation

    from portal.admin import schedule_in_words

    ensure(apps)
    rows = {row.task: row.crontab for row in PeriodicTask.objects.select_related("crontab")}
    with translation.override(lang):
        assert schedule_in_words(rows["filings.tasks.nightly"]) == nightly
        assert schedule_in_words(rows["settlement.tasks.generate_clearing_statements"]) == monthly
        assert schedule_in_words(None) == "-"
        # An expression cron_descriptor cannot read is shown as it is, never an error page.
        bad = CrontabSchedule(minute="1", hour="1", day_of_week="9", timezone="Asia/Shanghai")
        assert schedule_in_words(bad) == "1 1 * * 9 (Asia/Shanghai)"


def test_agency_staff_read_the_schedules_in_chinese(world):
    """The list and a schedule's page speak the reviewer's language (django-celery-beat's own
    describe a crontab in English, in 12-hour time, and label the task in English)."""
    from tests.portal import test_permission_matrix as matrix
    from tests.portal.test_page_language import _in_language

    client = _in_language(matrix._client(world, matrix.X), "zh-hans")
    html = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "在 01:05 (Asia/Shanghai)" in html and "At 01:05" not in html
    nightly = PeriodicTask.objects.get(task="filings.tasks.nightly")
    url = f"/admin/django_celery_beat/periodictask/{nightly.pk}/change/"
    page = client.get(url).content.decode()
    assert "任务代码路径" in page and "Task Name" not in page
    assert "运行计划说明" in page and "在 01:05" in page
    crontab = client.get(f"/admin/django_celery_beat/crontabschedule/{nightly.crontab_id}/change/")
    assert "使用此计划的定时任务" in crontab.content.decode()
