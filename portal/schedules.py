"""The periodic jobs, stored in django-celery-beat so agency administrators can edit them."""

SCHEDULES = [
    # name, task, crontab (minute, hour)
    ("Filings: nightly expiry, revocation and reminders", "filings.tasks.nightly", ("5", "1")),
    (
        "Notifications: deliver pending emails",
        "portal.tasks.deliver_pending_notifications",
        ("*/5", "*"),
    ),
]


def ensure(apps=None) -> None:
    if apps is None:
        from django.apps import apps as registry

        apps = registry
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour) in SCHEDULES:
        crontab, _ = Crontab.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="Asia/Shanghai",
        )
        Periodic.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})
