"""A stay's admission date has a lower bound: a year typed wrong (0206, 0001) is refused
beside the field, on the claim form, its estimate and the hospital API."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from settlement import rules
from tests.settlement.test_claim_uploads_kept import _stay
from tests.settlement.test_claims import _person

D = datetime.date


def test_a_stay_of_3_years_is_accepted_and_one_day_more_is_refused():
    today = D(2026, 11, 24)
    rules.check_stay_dates(admitted_on=D(2023, 11, 10), discharged_on=D(2026, 11, 10), today=today)
    with pytest.raises(rules.RuleError) as refused:
        rules.check_claim_dates(
            admitted_on=D(2023, 11, 9), discharged_on=D(2026, 11, 10), today=today
        )
    assert refused.value.code == "stay_too_long"


@pytest.mark.parametrize("admitted", [D(206, 11, 1), D(1, 1, 1), D(1997, 12, 31)])
def test_an_admission_in_a_year_typed_wrong_is_refused(admitted):
    with pytest.raises(rules.RuleError) as refused:
        rules.check_stay_dates(
            admitted_on=admitted, discharged_on=D(2026, 11, 10), today=D(2026, 11, 24)
        )
    assert refused.value.code in {"admission_too_early", "stay_too_long"}


def test_year_one_throughout_is_refused_without_an_overflow():
    with pytest.raises(rules.RuleError) as refused:
        rules.check_stay_dates(admitted_on=D(1, 1, 1), discharged_on=D(1, 1, 1), today=D.today())
    assert refused.value.code == "admission_too_early"


@pytest.mark.django_db
@pytest.mark.parametrize("press", ["estimate", "submit"])
@pytest.mark.parametrize("admitted", ["0206-11-01", "0001-01-01"])
def test_the_claim_form_refuses_the_admission_date_beside_the_field(client, demo, press, admitted):
    client.force_login(_person("陈明").user)
    response = client.post(
        reverse("settlement:claim-new"), _stay(**{press: "1", "admitted_on": admitted})
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["admitted_on"]
    assert response.context["estimate"] is None
    assert "请核对年份" in str(form.errors["admitted_on"])  # in the page's language
