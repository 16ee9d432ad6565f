"""domain.md §3.2: a benefit policy's deductible and annual cap are amounts (never negative) and
its payment ratio and class B first self-pay rate are shares (0 to 1). A class B rate of 1.5
would take fund money from a bill's class A items: the admin's form refuses such a figure beside
its field, and the database refuses it however it is written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from settlement.models import BenefitPolicy

pytestmark = pytest.mark.django_db

BAD = [
    ("class_b_rate", Decimal("1.500")),
    ("class_b_rate", Decimal("-0.100")),
    ("ratio", Decimal("1.200")),
    ("deductible", Decimal("-1.00")),
    ("annual_cap", Decimal("-300000.00")),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_rule_3_2_a_policy_figure_out_of_bounds_is_refused_by_the_model(demo, field, value):
    policy = BenefitPolicy.objects.first()
    setattr(policy, field, value)
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert field in refused.value.error_dict


@pytest.mark.parametrize(("field", "value"), BAD)
def test_rule_3_2_a_policy_figure_out_of_bounds_is_refused_by_the_database(demo, field, value):
    policy = BenefitPolicy.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        BenefitPolicy.objects.filter(pk=policy.pk).update(**{field: value})
    policy.refresh_from_db()
    assert getattr(policy, field) != value


def test_rule_3_2_the_admin_says_what_is_wrong_beside_the_field(client, demo):
    from tests.signin import staff_login

    policy = BenefitPolicy.objects.filter(region__code="232700").first()
    staff_login(client, "admin")
    url = f"/admin/settlement/benefitpolicy/{policy.pk}/change/"
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["class_b_rate"] = "1.5"
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["class_b_rate"]
    policy.refresh_from_db()
    assert policy.class_b_rate <= 1
