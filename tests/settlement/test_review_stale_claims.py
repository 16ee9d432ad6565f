"""A claim's decision stands only on the claim the reviewer saw: "approve with an adjusted
amount" typed for one bill is not paid on the bill resubmitted after a return. Held settlements
are found by a whole ID number, as claims and filings are."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from settlement import services
from settlement.models import Claim, Settlement
from tests.settlement.test_claims import _staff, _submit
from tests.settlement.test_hospital_settlements import CHEN, H1, _held_stays
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:settlement_claim_changelist"
BILL = [{"code": "X1", "name": "住院费", "class": "A", "amount": "20000.00"}]
NEW_BILL = [
    {"code": "X1", "name": "住院费", "class": "A", "amount": "16000.00"},
    {"code": "X9", "name": "自费药", "class": "C", "amount": "4000.00"},
]


def test_an_adjusted_amount_typed_before_a_return_and_resubmission_is_not_paid(client, demo):
    claim = _submit(items=BILL)
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:settlement_claim_change", args=[claim.pk])).content.decode()
    seen = services.claim_version(claim)
    assert f'name="_seen_{claim.pk}" value="{seen}"' in page
    url = reverse(CHANGELIST)
    opened = client.post(
        url, {"action": "approve_adjusted", "_selected_action": claim.pk, f"_seen_{claim.pk}": seen}
    )
    assert f'name="_seen_{claim.pk}" value="{seen}"' in opened.content.decode()
    # Another reviewer returns it; the person resubmits another bill.
    services.claim_return(claim=claim, actor=_staff(), reason="请补充发票")
    services.claim_resubmit(
        claim=Claim.objects.get(pk=claim.pk), actor=claim.person.user, items=NEW_BILL
    )
    response = client.post(
        url,
        {
            "action": "approve_adjusted",
            "_selected_action": claim.pk,
            f"_seen_{claim.pk}": seen,
            "apply": "1",
            "fund_pay": "100.00",
            "reason": "部分项目不予支付",
        },
    )
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith(f"{claim.number}：") and "已被更改" in error
    claim.refresh_from_db()
    assert (claim.status, claim.approved_fund_pay) == ("submitted", None)
    assert not AuditEvent.objects.filter(object_id=str(claim.pk), action__startswith="claim.a")


def test_the_claim_service_compares_the_version_under_the_row_lock(demo):
    claim = _submit(items=BILL)
    seen = services.claim_version(claim)
    services.claim_return(claim=claim, actor=_staff(), reason="请补充发票")
    services.claim_resubmit(claim=Claim.objects.get(pk=claim.pk), actor=claim.person.user)
    with pytest.raises(services.rules.RuleError) as refused:
        services.claim_approve(
            claim=claim, actor=_staff(), fund_pay=Decimal("100.00"), reason="x", seen_version=seen
        )
    assert refused.value.code == "changed_since_opened"
    now = services.claim_version(Claim.objects.get(pk=claim.pk))
    assert services.claim_approve(claim=claim, actor=_staff(), seen_version=now).status == (
        "approved"
    )


def test_a_stale_decision_from_the_claims_list_is_named_and_nothing_done(client, demo):
    claim = _submit()
    seen = services.claim_version(claim)
    services.claim_return(claim=claim, actor=_staff(), reason="请补充发票")
    services.claim_resubmit(claim=Claim.objects.get(pk=claim.pk), actor=claim.person.user)
    staff_login(client, "agency_shenyang")
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_clean", "_selected_action": [claim.pk], f"_seen_{claim.pk}": seen},
        follow=True,
    )
    assert f"{claim.number}：它在您打开后已被更改" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_the_claims_list_posts_the_version_each_row_shows(client, demo):
    claim = _submit()
    staff_login(client, "agency_shenyang")
    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert f'name="_seen_{claim.pk}" value="{services.claim_version(claim)}"' in listing


def test_held_settlements_are_found_by_a_whole_id_number(client, demo):
    (held,) = _held_stays(H1, 1)
    staff_login(client, "agency_shenyang")
    url = reverse("admin:settlement_settlement_changelist")
    location = client.post(url, {"_id_search": "1", "q": CHEN[0], "_changelist_query": ""})[
        "Location"
    ]
    assert CHEN[0] not in location
    found = {row.pk for row in client.get(location).context["cl"].result_list}
    assert found == set(Settlement.objects.filter(person=held.person).values_list("pk", flat=True))
    assert held.pk in found
