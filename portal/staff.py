"""Who works for an agency, and what that lets them do in the admin.

Agency staff get their model permissions from one group, "Agency reviewers", which every
`migrate` keeps up to date (a new deployment has it before anyone seeds anything). Making a user
agency staff in the admin (a row of *Agency staff*) puts the account in that group and lets it
into the admin; removing the row takes both away again, so a reviewer who moves on keeps no
permission by mistake. Which rows each of them sees is still the region's (RegionScopedAdmin).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

AGENCY_GROUP = "Agency reviewers"
# Apps whose models agency staff work with in the admin (narrowed per model by each admin).
AGENCY_APPS = ["portal", "hospitals", "filings", "settlement"]
# Apps agency staff may look at only: the job schedules run every region's jobs.
AGENCY_VIEW_APPS = ["django_celery_beat"]


def ensure_agency_group() -> Group:
    group, _ = Group.objects.get_or_create(name=AGENCY_GROUP)
    perms = Permission.objects.filter(
        Q(content_type__app_label__in=AGENCY_APPS)
        | Q(content_type__app_label__in=AGENCY_VIEW_APPS, codename__startswith="view_")
    )
    group.permissions.set(perms)
    return group


def agency_group_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: once the permissions of an app the group covers exist, the group holds them
    (the signal comes once per app; the group is set again for each of these)."""
    if getattr(sender, "label", None) not in AGENCY_APPS + AGENCY_VIEW_APPS:
        return
    from django.db import router

    if router.allow_migrate_model(using, Group):
        ensure_agency_group()


@transaction.atomic
def agency_staff_saved(*, staff, previous_user=None) -> None:
    """A user was made (or moved as) agency staff: the account is staff and in the group; an
    account the row named before, if another, loses both unless it is a superuser."""
    user = staff.user
    user.groups.add(ensure_agency_group())
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if previous_user is not None and previous_user.pk != user.pk:
        agency_staff_removed(user=previous_user)


@transaction.atomic
def agency_staff_removed(*, user) -> None:
    """A user is no longer agency staff: out of the group, and out of the admin unless a
    superuser (whose rights do not come from the group)."""
    group = Group.objects.filter(name=AGENCY_GROUP).first()
    if group is not None:
        user.groups.remove(group)
    if user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
