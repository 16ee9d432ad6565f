"""The periodic jobs, stored in django-celery-beat so agency administrators can edit them."""

SCHEDULES = [
    # name, task, crontab (minute, hour[, day of month])
    ("Filings: nightly expiry, revocation and reminders", "filings.tasks.nightly", ("5", "1")),
    (
        "Notifications: deliver pending emails",
        "portal.tasks.deliver_pending_notifications",
        ("*/5", "*"),
    ),
    (
        "Uploads: remove files nothing refers to",
        "filings.tasks.remove_abandoned_uploads",
        ("40", "3"),
    ),
    # Last month's clearing statements, once held settlements of the month end were reviewed.
    (
        "Clearing: last month's statements between regions",
        "settlement.tasks.generate_clearing_statements",
        ("30", "2", "5"),
    ),
]


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
