"""The job schedules' names are data shown in the admin in either language: Chinese, then
English. Schedules stored under their former English-only names are renamed, edits kept."""

from __future__ import annotations

import pytest
from django.apps import apps
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from portal.schedules import FORMER_NAMES, SCHEDULES, ensure, rename_former

pytestmark = pytest.mark.django_db
HAN = range(0x4E00, 0xA000)


def test_every_schedule_is_named_in_chinese_then_english():
    for name, _task, _cron in SCHEDULES:
        chinese, english = name.split(" / ")
        assert any(ord(c) in HAN for c in chinese) and english.isascii(), name
    assert set(FORMER_NAMES.values()) == {task for _name, task, _cron in SCHEDULES}


def test_schedules_under_former_names_are_renamed_keeping_their_edits():
    PeriodicTask.objects.all().delete()
    crontab = CrontabSchedule.objects.create(minute="15", hour="2", timezone="Asia/Shanghai")
    for old, task in FORMER_NAMES.items():
        PeriodicTask.objects.create(name=old, task=task, crontab=crontab, enabled=False)
    rename_former(apps)
    rows = {row.task: row for row in PeriodicTask.objects.all()}
    assert len(rows) == len(SCHEDULES) == PeriodicTask.objects.count()
    for name, task, _cron in SCHEDULES:
        assert rows[task].name == name
        assert (rows[task].enabled, rows[task].crontab_id) == (False, crontab.pk)
    ensure(apps)  # a later ensure() adds nothing
    assert PeriodicTask.objects.count() == len(SCHEDULES)


def test_a_former_name_beside_the_current_one_is_dropped():
    ensure(apps)
    crontab = CrontabSchedule.objects.first()
    old, task = next(iter(FORMER_NAMES.items()))
    PeriodicTask.objects.create(name=old, task=task, crontab=crontab)
    rename_former(apps)
    assert not PeriodicTask.objects.filter(name=old).exists()
    assert PeriodicTask.objects.filter(task=task).count() == 1
