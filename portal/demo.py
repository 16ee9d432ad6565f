"""The demo of ../shared/demo.md: regions, agencies, insured persons and accounts (idempotent)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.db import transaction

from portal.lib import idnumbers
from portal.models import Agency, AgencyStaff, InsuredPerson, Province, Region
from portal.staff import ensure_agency_group

PASSWORD = "Demo#2026"
# Fixed TOTP secrets so the demo staff logins work; never use these outside the demo.
TOTP_SECRETS = {
    "agency_dxal": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "agency_shenyang": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "admin": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
}

PROVINCES = [
    ("210000", "辽宁省", "Liaoning"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("460000", "海南省", "Hainan"),
]
REGIONS = [
    ("210100", "沈阳市", "Shenyang", "210000", Region.Measures.LIAONING),
    ("210200", "大连市", "Dalian", "210000", Region.Measures.LIAONING),
    ("230100", "哈尔滨市", "Harbin", "230000", Region.Measures.DAXINGANLING),
    ("232700", "大兴安岭地区", "Daxinganling", "230000", Region.Measures.DAXINGANLING),
    ("460200", "三亚市", "Sanya", "460000", Region.Measures.LIAONING),
]
# username, name, ID number, region, scheme, retired
PERSONS = [
    ("wangxiulan", "王秀兰", "232701195603120223", "232700", "employee", True),
    ("lijianguo", "李建国", "210102196208050352", "210100", "employee", False),
    ("zhangwei", "张伟", "232721197811200177", "232700", "resident", False),
    ("liufang", "刘芳", "210202199004150481", "210200", "employee", False),
    ("chenming", "陈明", "210103198512010131", "210100", "employee", False),
    ("zhaoli", "赵丽", "23272219700630026X", "232700", "employee", False),
    ("sunguoqiang", "孙国强", "21010219580101055X", "210100", "employee", True),
]
AGENCY_STAFF = [("agency_dxal", "232700"), ("agency_shenyang", "210100")]


def _user(username: str, *, staff: bool = False, superuser: bool = False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@demo.example.cn",
            "is_staff": staff or superuser,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def _totp(user) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, TOTP_SECRETS[user.username])


@transaction.atomic
def seed(out) -> list[tuple[str, str]]:
    """Create the core demo; returns (login, note) lines for the printed summary."""
    provinces = {}
    for code, name, name_en in PROVINCES:
        provinces[code], _ = Province.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
    for code, name, name_en, province, measures in REGIONS:
        region, _ = Region.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "province": provinces[province],
                "measures": measures,
            },
        )
        Agency.objects.update_or_create(
            region=region,
            defaults={
                "name": f"{name}医疗保障事业服务中心",
                "name_en": f"{name_en} Medical Security Service Center",
            },
        )
    logins = []
    for username, name, id_number, region_code, scheme, retired in PERSONS:
        user = _user(username)
        person = InsuredPerson.objects.filter(id_hash=idnumbers.id_hash(id_number)).first()
        if person is None:
            person = InsuredPerson(name=name)
            person.set_id_number(id_number)
        person.name = name
        person.user = user
        person.region = Region.objects.get(code=region_code)
        person.scheme = scheme
        person.retired = retired
        person.save()
        logins.append((username, f"{name} ({region_code})"))
    group = ensure_agency_group()
    for username, region_code in AGENCY_STAFF:
        user = _user(username, staff=True)
        user.groups.add(group)
        AgencyStaff.objects.update_or_create(
            user=user, defaults={"agency": Agency.objects.get(region__code=region_code)}
        )
        _totp(user)
        logins.append(
            (username, f"agency staff {region_code}, TOTP secret {TOTP_SECRETS[username]}")
        )
    admin = _user("admin", superuser=True)
    _totp(admin)
    logins.append(("admin", f"superuser, TOTP secret {TOTP_SECRETS['admin']}"))
    return logins
