"""Strings the admin and the account pages show from Django and django-celery-beat that their
own Simplified Chinese catalogues lack. They are translated in the portal's catalogue
(`locale/`, which Django reads before the libraries' own); listing them here keeps
`make messages` from dropping them, since it reads only the project's sources. Nothing imports
this module."""

from django.utils.translation import gettext_noop, ngettext_lazy

STRINGS = [
    # Django 5.2's admin index: the hidden headings of each app's table.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-celery-beat's admin: fieldsets, the inline, help texts of the crontab's fields.
    gettext_noop("Schedule"),
    gettext_noop("Arguments"),
    gettext_noop("Execution Options"),
    gettext_noop("Periodic Tasks Using This Schedule"),
    gettext_noop('Cron Months (1-12) Of The Year to Run. Use "*" for "all". (Example: "1,12")'),
    gettext_noop(
        'Cron Days Of The Week to Run. Use "*" for "all", Sunday is 0 or 7, Monday is 1. '
        '(Example: "0,5")'
    ),
    # ... and the messages of its actions (superusers only).
    ngettext_lazy("{0} task was successfully enabled", "{0} tasks were successfully enabled", 1),
    ngettext_lazy("{0} task was successfully disabled", "{0} tasks were successfully disabled", 1),
    ngettext_lazy("{0} task was successfully toggled", "{0} tasks were successfully toggled", 1),
    # Django 5.2's password length validator (the sign-up page): a new msgid, with %d.
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        8,
    ),
]
