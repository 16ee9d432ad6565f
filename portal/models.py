"""The shared core: provinces, pooling regions, agencies, roles and audit events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from portal.audit_labels import audit_action_label
from portal.lib import idnumbers


class BilingualName(models.Model):
    # "名称" of a place or an organisation, not a person's "姓名".
    name = models.CharField(pgettext_lazy("of a place or an organisation", "name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Province(BilingualName):
    code = models.CharField(_("code"), max_length=6, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")


class Region(BilingualName):
    """A pooling region (统筹区)."""

    class Measures(models.TextChoices):
        LIAONING = "liaoning", _("Liaoning 2022 measures")
        DAXINGANLING = "daxinganling", _("Daxinganling measures")

    code = models.CharField(_("code"), max_length=6, unique=True)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="regions", verbose_name=_("province")
    )
    measures = models.CharField(
        _("filing measures"), max_length=20, choices=Measures.choices, default=Measures.LIAONING
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("pooling region")
        verbose_name_plural = _("pooling regions")


def place_name(province: Province | None, region: Region | None) -> str:
    """A place as its language writes it: "黑龙江省哈尔滨市", "Harbin, Heilongjiang"."""
    if (get_language() or "").startswith("zh"):
        return f"{province or ''}{region or ''}"
    return ", ".join(str(p) for p in (region, province) if p)


class Agency(BilingualName):
    """The medical insurance office (医保经办机构) of one pooling region, named in the reader's
    language (an English PDF prints the English name)."""

    region = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="agency", verbose_name=_("pooling region")
    )
    name = models.CharField(pgettext_lazy("of a place or an organisation", "name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")


class Scheme(models.TextChoices):
    EMPLOYEE = "employee", _("Urban employee basic medical insurance")
    RESIDENT = "resident", _("Urban-rural resident basic medical insurance")


class InsuredPerson(models.Model):
    """An insured person (参保人), bound to one resident ID number, region and scheme.

    The ID number is stored encrypted; `id_hash` (HMAC) serves exact lookups and uniqueness.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="insured",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=60)
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    # A secret of the person's (it binds an account to this record: portal.forms), so stored
    # encrypted like the ID number; never looked up by, only compared once the record is found.
    # Blank is stored as NULL (the encrypted field writes no empty string).
    social_security_no = EncryptedCharField(
        _("social security card number"), max_length=30, blank=True, null=True
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="insured", verbose_name=_("insured in")
    )
    scheme = models.CharField(_("scheme"), max_length=10, choices=Scheme.choices)
    retired = models.BooleanField(_("retired"), default=False)
    active = models.BooleanField(_("insured and active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        # The filings, claims and settlements lists find a person's rows by the exact full name
        # (portal.admin.IdNumberSearch.person_name_field).
        indexes = [models.Index(fields=["name"], name="portal_insuredperson_name_idx")]

    def __str__(self) -> str:
        return f"{idnumbers.mask_name(self.name)} {self.masked_id}"

    @property
    def masked_id(self) -> str:
        return idnumbers.mask(self.id_number or "")

    @property
    def masked_name(self) -> str:
        return idnumbers.mask_name(self.name)

    @property
    def masked_social_security_no(self) -> str:
        """`SY23270012345678` → `************5678` (a short number all stars); blank as "-"."""
        number = idnumbers.normalize(self.social_security_no or "")
        if not number:
            return "-"
        shown = number[-4:] if len(number) >= 8 else ""
        return "*" * (len(number) - len(shown)) + shown

    def set_id_number(self, value: str) -> None:
        self.id_number = idnumbers.normalize(value)
        self.id_hash = idnumbers.id_hash(value)


class AgencyStaff(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agency_staff",
        verbose_name=_("account"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="staff", verbose_name=_("agency")
    )

    class Meta:
        verbose_name = _("agency staff member")
        verbose_name_plural = _("agency staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.agency})"


class AuditEvent(models.Model):
    """One recorded action: who, in which role, did what to which object, from/to which state.

    Jobs write these in bulk, so the table keeps few indexes: the object (type, id) for a
    timeline, the time for the admin list, and the region with the time for an agency's list.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,
    )
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pooling region"),
        db_index=False,  # auditevent_region_recent leads with it
    )
    from_state = models.CharField(_("from"), max_length=30, blank=True)
    to_state = models.CharField(_("to"), max_length=30, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["region", "-created_at", "-id"], name="auditevent_region_recent"),
        ]

    def __str__(self) -> str:
        # The action in words, as the audit log's list shows it ("备案：批准"), for the title and
        # the breadcrumbs of its page.
        when = f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} " if self.created_at else ""
        return f"{when}{audit_action_label(self.action)} {self.object_repr}"


class Notification(models.Model):
    """An in-portal message to a user, also delivered by email by a Celery task."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # What is said: a notice of the catalogue (portal/notices.py) and its parameters, rendered in
    # the reader's language; or, for a notice not in the catalogue, the text as written.
    notice = models.CharField(_("notice"), max_length=40, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text()[0]

    def text(self, language: str | None = None) -> tuple[str, str]:
        """(subject, body) in `language`, by default the active one."""
        from portal import notices

        if self.notice in notices.NOTICES:
            return notices.render(self.notice, self.params, language)
        return self.subject, self.body

    @cached_property
    def shown(self) -> tuple[str, str]:
        """(subject, body) in the active language, for templates."""
        return self.text()


class Preference(models.Model):
    """What a user chose for themselves: the language emails are written in (the one they last
    used the portal in, recorded at login and when they switch)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preference",
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"{self.user} {self.language}"

    @classmethod
    def language_of(cls, user_id: int) -> str:
        found = cls.objects.filter(user_id=user_id).values_list("language", flat=True).first()
        return found or settings.LANGUAGE_CODE

    @classmethod
    def remember(cls, user, language: str) -> None:
        """Record `language` (one of LANGUAGES) as the user's, if it changed."""
        if user is None or not user.is_authenticated:
            return
        if language not in dict(settings.LANGUAGES):
            return
        current = cls.objects.filter(user=user).values_list("language", flat=True).first()
        if current != language:
            cls.objects.update_or_create(user=user, defaults={"language": language})


class JobRun(models.Model):
    """What one run of a scheduled job did, for agency staff in the admin."""

    name = models.CharField(_("job"), max_length=80, db_index=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows changed"), default=0)
    details = models.JSONField(_("details"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        from portal.jobruns import job_label  # (jobruns writes this model)

        # In words and in local time, as the page's own fields show it.
        return f"{job_label(self.name)} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Reminder(models.Model):
    """A reminder sent once, ever: the unique key is committed before the message goes out."""

    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    kind = models.CharField(_("kind"), max_length=40)
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "kind", "due_date"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_type}:{self.object_id} {self.due_date}"
