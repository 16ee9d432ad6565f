"""Designated medical institutions (定点医疗机构), their staff, API keys and the access log."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.models import BilingualName, Province, Region, place_name

# A hospital's national code: "H" and 11 digits (H23010300001), as every designated hospital of
# hospitals/data has it. It is the address of the hospital's public page (/hospitals/<code>/),
# so a "/" in it would leave the directory unable to link it; ASCII digits only, no newline.
# The model's validator: every full_clean() checks it (the admin's form, the import, a script
# that cleans what it saves). The database holds no constraint: a directory loaded before codes
# were checked may hold others, which the pages list and the exports escape (tests/hospitals/
# test_hospital_code.py), and a constraint would stop such a deployment's migration.
HOSPITAL_CODE = RegexValidator(
    r"\AH[0-9]{11}\Z",
    message=_("A hospital's national code is the letter H and 11 digits, such as H23010300001."),
    code="hospital_code",
)


class Level(models.IntegerChoices):
    PRIMARY = 1, _("Primary (level 1)")
    SECONDARY = 2, _("Secondary (level 2)")
    TERTIARY = 3, _("Tertiary (level 3)")


class Kind(models.TextChoices):
    GENERAL = "general", _("General")
    SPECIALISED = "specialised", _("Specialised")
    TCM = "tcm", _("Traditional Chinese medicine")


class Ownership(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class CareType(models.TextChoices):
    INPATIENT = "inpatient", _("Inpatient")
    GENERAL_OUTPATIENT = "general_outpatient", _("General outpatient")
    CHRONIC_OUTPATIENT = "chronic_outpatient", _("Outpatient chronic and special diseases")


class Hospital(BilingualName):
    code = models.CharField(
        _("national code"), max_length=20, unique=True, validators=[HOSPITAL_CODE]
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="hospitals", verbose_name=_("province")
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="hospitals", verbose_name=_("pooling region")
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    ownership = models.CharField(_("ownership"), max_length=8, choices=Ownership.choices)
    inpatient = models.BooleanField(_("inpatient direct settlement"), default=True)
    general_outpatient = models.BooleanField(
        _("general outpatient direct settlement"), default=True
    )
    chronic_outpatient = models.BooleanField(
        _("outpatient chronic and special diseases direct settlement"), default=False
    )
    resettlement_designated = models.BooleanField(
        _("designated for resettled persons"), default=False
    )
    # Search helpers filled from the Chinese name (pypinyin): full pinyin and initials.
    pinyin = models.CharField(max_length=400, blank=True, editable=False, db_index=True)
    initials = models.CharField(max_length=100, blank=True, editable=False, db_index=True)
    suspended_on = models.DateField(_("suspended from direct settlement on"), null=True, blank=True)
    suspension_reason = models.TextField(_("reason for suspension"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("designated hospital")
        verbose_name_plural = _("designated hospitals")

    def __str__(self) -> str:
        # Full-width parentheses in Chinese text: "三亚市人民医院（H46020000002）".
        if (get_language() or "").startswith("zh"):
            return f"{self.display_name}（{self.code}）"
        return f"{self.display_name} ({self.code})"

    @property
    def place(self) -> str:
        """Where the hospital is, as its language writes it: "黑龙江省哈尔滨市", "Harbin,
        Heilongjiang"."""
        return place_name(self.province, self.region)

    @property
    def services(self) -> list[str]:
        return [c for c in CareType.values if getattr(self, c)]

    def offers(self, care_type: str) -> bool:
        return bool(getattr(self, care_type, False))


class HospitalStaff(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hospital_staff",
        verbose_name=_("account"),
    )
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="staff", verbose_name=_("hospital")
    )

    class Meta:
        verbose_name = _("hospital staff member")
        verbose_name_plural = _("hospital staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.hospital.code})"


class ApiKey(models.Model):
    """A key for a hospital information system. Only a SHA-256 digest is stored."""

    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("hospital")
    )
    name = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.hospital.code})"


# What the access log's codes mean (written by hospitals.access_log.record's callers).
PURPOSES = {
    "eligibility": _("Eligibility check"),
    "settlement": _("Direct settlement"),
    "verify": _("Document verification"),
    "referral": _("Referral"),
    "material": _("Proof material"),
    "claim_document": _("Claim document"),
    "document": _("Filing document (PDF)"),
    "person": _("Insured person's record"),
    "reveal": _("Full ID and card numbers revealed"),
}
CHANNELS = {
    "api": _("API"),
    "web": _("web page"),
    "fhir": "FHIR",
    "read": _("read again"),
    "admin": _("admin"),
}
OUTCOMES = {
    "found": _("found"),
    "not_found": _("not found"),
    "eligible": _("eligible"),
    "not_eligible": _("not eligible"),
}


def purpose_label(code: str) -> str:
    """`eligibility:web` → "Eligibility check (web page)"; an unknown code as it is."""
    purpose, _sep, channel = code.partition(":")
    label = str(PURPOSES.get(purpose, purpose))
    if not channel:
        return label
    return _("%(purpose)s (%(channel)s)") % {
        "purpose": label,
        "channel": CHANNELS.get(channel, channel),
    }


class AccessLog(models.Model):
    """Who read whose personal data, for what, with which outcome. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hospital"),
    )
    agency_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    subject_hash = models.CharField(_("whose record (keyed hash)"), max_length=64, db_index=True)
    subject_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("insured in"),
    )
    purpose = models.CharField(_("purpose"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=40)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # The calls this row stands for: repeats of the same read folded into it (the same document
    # verified again from the same address within minutes) count here, not as rows of their own.
    calls = models.PositiveIntegerField(_("calls"), default=1, db_default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log entries")

    def __str__(self) -> str:
        # In local time, as the list and the page's own fields show it (the title, breadcrumbs
        # and history name the entry by this).
        when = f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} " if self.created_at else ""
        return f"{when}{self.purpose_label()} {self.outcome_label()}"

    def purpose_label(self) -> str:
        return purpose_label(self.purpose)

    def outcome_label(self) -> str:
        return str(OUTCOMES.get(self.outcome, self.outcome))
