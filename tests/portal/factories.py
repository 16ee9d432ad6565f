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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

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
