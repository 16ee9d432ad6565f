"""The periodic jobs, stored in django-celery-beat so agency administrators can edit them."""

# What each job that records its runs is called, Chinese and English, by the code its runs are
# recorded under (`record_run("filings.nightly", ...)`): one wording for its schedule's name
# here and for its runs in the admin (portal.jobruns.job_label).
JOB_NAMES = {
    "filings.nightly": (
        "备案：每日到期、撤销与提醒",
        "Filings: nightly expiry, revocation and reminders",
    ),
    "filings.abandoned_uploads": (
        "上传：清理无引用的文件",
        "Uploads: remove files nothing refers to",
    ),
    "filings.old_documents": ("文书：清理旧版本 PDF", "Documents: remove outdated PDFs"),
    "settlement.clearing": (
        "清算：生成上月地区间清算单",
        "Clearing: last month's statements between regions",
    ),
}


def schedule_name(job: str) -> str:
    """A job's schedule name as stored: "中文 / English"."""
    chinese, english = JOB_NAMES[job]
    return f"{chinese} / {english}"


# Names are data, shown as they are in either language of the admin: Chinese, then English.
SCHEDULES = [
    # name, task, crontab (minute, hour[, day of month])
    (schedule_name("filings.nightly"), "filings.tasks.nightly", ("5", "1")),
    (
        "消息：发送待发邮件 / Notifications: deliver pending emails",
        "portal.tasks.deliver_pending_notifications",
        ("*/5", "*"),
    ),
    (
        schedule_name("filings.abandoned_uploads"),
        "filings.tasks.remove_abandoned_uploads",
        ("40", "3"),
    ),
    (
        schedule_name("filings.old_documents"),
        "filings.tasks.remove_old_documents",
        ("50", "3"),
    ),
    # Last month's clearing statements, once held settlements of the month end were reviewed.
    (
        schedule_name("settlement.clearing"),
        "settlement.tasks.generate_clearing_statements",
        ("30", "2", "5"),
    ),
]
# The English-only names the schedules were first stored under (renamed by portal 0007).
FORMER_NAMES = {
    "Filings: nightly expiry, revocation and reminders": "filings.tasks.nightly",
    "Notifications: deliver pending emails": "portal.tasks.deliver_pending_notifications",
    "Uploads: remove files nothing refers to": "filings.tasks.remove_abandoned_uploads",
    "Clearing: last month's statements between regions": (
        "settlement.tasks.generate_clearing_statements"
    ),
}


def rename_former(apps) -> None:
    """Give schedules stored under a former name their current one, keeping their edits (time,
    enabled, last run); a schedule already stored under both keeps the current one."""
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    current = {task: name for name, task, _cron in SCHEDULES}
    for old, task in FORMER_NAMES.items():
        row = Periodic.objects.filter(name=old).first()
        if row is None:
            continue
        if Periodic.objects.filter(name=current[task]).exists():
            row.delete()
        else:
            row.name = current[task]
            row.save(update_fields=["name"])


def ensure(apps=None) -> None:
    if apps is None:
        from django.apps import apps as registry

        apps = registry
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron in SCHEDULES:
        minute, hour, day_of_month = (*cron, "*")[:3]
        crontab, _ = Crontab.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month=day_of_month,
            month_of_year="*",
            timezone="Asia/Shanghai",
        )
        Periodic.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})
