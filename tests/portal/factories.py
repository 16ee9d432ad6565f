import itertools

import factory
from django.contrib.auth import get_user_model
from stdnum.cn import ric

from portal.lib import idnumbers
from portal.models import Agency, AgencyStaff, InsuredPerson, Province, Region

_serial = itertools.count(1)


def make_id_number(area: str = "210102", born: str = "19620805") -> str:
    """A genuine-in-form ID number: real area code, real birth date, right check digit."""
    body = f"{area}{born}{next(_serial) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("code",)

    code = "210000"
    name = "辽宁省"
    name_en = "Liaoning"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "210100"
    name = "沈阳市"
    name_en = "Shenyang"
    province = factory.SubFactory(ProvinceFactory)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("region",)

    region = factory.SubFactory(RegionFactory)
    name = factory.LazyAttribute(lambda o: f"{o.region.name}医保中心")


# The TOTP secret of the staff users the factories make (never one of the demo's).
STAFF_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def authenticator(obj, create, extracted, **kwargs):
        """Staff and superusers work only with an authenticator app
        (portal.middleware.StaffTotpMiddleware): they get one, as an administrator sets them up;
        `authenticator=False` makes one without."""
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        if not create or extracted is False or not (obj.is_staff or obj.is_superuser):
            return
        if not Authenticator.objects.filter(user=obj, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(obj, STAFF_TOTP_SECRET)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


class InsuredPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsuredPerson

    name = "李建国"
    region = factory.SubFactory(RegionFactory)
    scheme = "employee"
    user = factory.SubFactory(UserFactory)

    @factory.lazy_attribute
    def id_number(self):
        return make_id_number()

    id_hash = factory.LazyAttribute(lambda o: idnumbers.id_hash(o.id_number))


class AgencyStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyStaff

    user = factory.SubFactory(UserFactory, is_staff=True)
    agency = factory.SubFactory(AgencyFactory)
