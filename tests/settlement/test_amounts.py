"""Amounts typed in settlement (settlement.forms.AmountField): read as people write them,
grouped or in full-width digits as the person's pages show them, and nothing Decimal reads that
a person would not mean (an exponent, underscores). The same field on the claim's item rows,
the estimator and the reviewer's adjusted amount."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django import forms
from django.utils import translation

from settlement.forms import AdjustForm, AmountField, ItemForm, amount_text
from settlement.views import EstimateForm
from tests.settlement.test_claims import _admin_login, _approve_adjusted, _submit
from tests.settlement.test_estimator import SANYA, estimate, rows_of

READ = [
    ("1234.56", "1234.56"),
    ("1,234.56", "1234.56"),
    ("1，234.56", "1234.56"),
    ("１２３４．５６", "1234.56"),
    ("１，２３４．５６", "1234.56"),
    (" 12 345 ", "12345"),
    ("\u00a012\u3000345.5", "12345.5"),
    ("0012", "0012"),
]
REFUSED = ["1e5", "1E5", "1_000", "-5", "+5", "NaN", "Infinity", "12,5", "1,23,456", ",123"]
REFUSED += ["1.2.3", ".5", "5.", "٣", "0x1F", "¥100", "1/2"]
EXAMPLE = "Enter an amount, such as 1234.56."


@pytest.mark.parametrize(("typed", "read"), READ)
def test_an_amount_is_read_as_plain_digits_and_a_point(typed, read):
    assert amount_text(typed) == read


@pytest.mark.parametrize("typed", REFUSED)
def test_what_decimal_reads_but_a_person_does_not_write_is_not_an_amount(typed):
    assert amount_text(typed) is None


def _field(**kwargs):
    return AmountField(max_digits=10, decimal_places=2, required=False, **kwargs)


@pytest.mark.parametrize("typed", REFUSED)
def test_the_field_refuses_each_with_an_example_in_both_languages(typed):
    for language, said in [("zh-hans", "请输入金额，例如 1234.56。"), ("en", EXAMPLE)]:
        with translation.override(language):
            with pytest.raises(forms.ValidationError) as refused:
                _field().clean(typed)
            assert refused.value.messages == [said]


def test_the_field_keeps_the_limits_of_a_decimal_field_and_their_messages():
    field = _field(min_value=D("0.01"))
    plain = forms.DecimalField(max_digits=10, decimal_places=2, required=False, min_value=D("0.01"))
    with translation.override("zh-hans"):
        for typed in ["0", "1.234", "123456789"]:
            with pytest.raises(forms.ValidationError) as ours:
                field.clean(typed)
            with pytest.raises(forms.ValidationError) as django:
                plain.clean(typed)
            assert ours.value.messages == django.value.messages
    assert field.clean("1,234.5") == D("1234.5")
    assert field.clean("") is None and field.clean("   ") is None


def test_every_amount_typed_in_settlement_is_an_amount_field():
    typed = [
        ItemForm.base_fields["amount"],
        AdjustForm.base_fields["fund_pay"],
        *(
            EstimateForm.base_fields[f]
            for f in ["estimated_total", "class_a", "class_b", "class_c"]
        ),
    ]
    assert all(isinstance(field, AmountField) for field in typed)


# --- the estimator ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_estimator_reads_a_grouped_total_as_the_page_shows_amounts(client, demo):
    plain = rows_of(estimate(client, demo["chenming"], estimated_total="20000"))
    for typed in ["20,000", "２０，０００．００"]:
        rows = rows_of(estimate(client, demo["chenming"], estimated_total=typed))
        assert rows["long_term"]["split"].fund_pay == plain["long_term"]["split"].fund_pay
        assert rows["long_term"]["split"].fund_pay == D("16150.00")


@pytest.mark.django_db
def test_the_estimator_refuses_an_exponent_beside_the_field_and_keeps_it(client, demo):
    response = estimate(client, demo["chenming"], estimated_total="1e5")
    form = response.context["form"]
    assert form.errors["estimated_total"] == [EXAMPLE]
    assert response.context["rows"] == []
    assert 'value="1e5"' in response.content.decode()
    assert response.context["form"].data["region"] == SANYA


# --- the reviewer's adjusted amount ----------------------------------------------------------


@pytest.mark.django_db
def test_an_adjusted_amount_may_be_typed_grouped_in_the_admin(client, demo):
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    _approve_adjusted(client, claim, "7,100.00", "部分项目不予支付")
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.approved_fund_pay == D("7100.00")


@pytest.mark.django_db
def test_an_adjusted_amount_with_an_exponent_comes_back_on_the_form(client, demo):
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    page = _approve_adjusted(client, claim, "7e3", "部分项目不予支付")
    html = page.content.decode()
    assert page.status_code == 200 and "请输入金额，例如 1234.56。" in html
    assert 'value="7e3"' in html and "部分项目不予支付" in html
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.approved_fund_pay is None


@pytest.mark.django_db
def test_an_adjusted_amount_over_the_total_still_says_the_total(client, demo):
    claim = _submit()
    form = AdjustForm({"fund_pay": "10,000.01", "reason": "x"}, objects=[claim])
    with translation.override("zh-hans"):
        assert not form.is_valid()
        assert "10,000.00" in form.errors["fund_pay"][0]
