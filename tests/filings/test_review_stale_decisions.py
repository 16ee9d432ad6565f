"""A decision stands only on what the reviewer saw: a filing returned, changed by the person and
resubmitted while a second reviewer had its page open is not approved by that page's button; a
decision on supplemented materials is about the files the page showed, not one supplied since."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import services
from filings.messages import message
from filings.models import Filing, Material
from filings.rules import RuleError
from portal.models import AuditEvent
from tests.filings.test_supplement_review import supply
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

CHANGED = "它在您打开后已被更改"


def changelist():
    return reverse("admin:filings_filing_changelist")


def button_fields(page: str, action: str) -> dict[str, list[str]]:
    """The hidden fields the decision button `action` of a filing's page posts."""
    form = re.search(
        rf'<form[^>]*class="decision">(?:(?!</form>).)*?value="{action}"(?:(?!</form>).)*</form>',
        page,
        re.S,
    )
    assert form, action
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)):
        fields.setdefault(name, []).append(value)
    return fields


def resubmit_changed(filing: Filing) -> None:
    """The person's edit and resubmission of a returned filing, as the row ends up (the demo
    filing lacks the materials `filing_submit` asks for): changed, submitted again, later."""
    Filing.objects.filter(pk=filing.pk, status="returned").update(
        relatives_home=not filing.relatives_home, status="submitted", updated_at=timezone.now()
    )


def test_a_filing_resubmitted_after_its_page_was_opened_is_not_approved_by_the_stale_page(
    client, demo
):
    filing = Filing.objects.get(number="BA210100000002")  # submitted, Shenyang
    staff = demo["agency_shenyang"]
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    approve = button_fields(page, "approve")
    assert approve[f"_seen_{filing.pk}"] == [services.filing_version(filing)]
    # Meanwhile another reviewer returns it, and the person changes it and submits it again.
    services.filing_return(filing=filing, actor=staff, reason="请补充材料")
    resubmit_changed(filing)
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    response = client.post(changelist(), approve, follow=True)
    told = response.content.decode()
    assert f"{filing.number}：{CHANGED}" in told
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    assert not AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve")
    # Opened again, the page's button decides the filing as it is now.
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    client.post(changelist(), button_fields(page, "approve"))
    assert Filing.objects.get(pk=filing.pk).status == "approved"


def test_a_rejection_typed_on_a_stale_reason_page_is_refused_naming_the_filing(client, demo):
    filing = Filing.objects.get(number="BA210100000002")
    staff = demo["agency_shenyang"]
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    reject = button_fields(page, "reject")
    asked = client.post(changelist(), reject).content.decode()
    # The reason page passes on the version the filing's page showed.
    assert f'name="_seen_{filing.pk}" value="{reject[f"_seen_{filing.pk}"][0]}"' in asked
    services.filing_return(filing=filing, actor=staff, reason="请补充材料")
    resubmit_changed(filing)
    response = client.post(changelist(), {**reject, "apply": "1", "reason": "材料不全"})
    assert response.status_code == 200
    assert [f"{filing.number}：{CHANGED}，未作任何处理。请重新打开，按其现状作出决定。"] == (
        response.context["form"].non_field_errors()
    )
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    assert not AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.reject")


def test_the_service_refuses_a_decision_on_an_older_version_and_records_nothing(demo):
    filing = Filing.objects.get(number="BA210100000002")
    staff = demo["agency_shenyang"]
    seen = services.filing_version(filing)
    Filing.objects.get(pk=filing.pk).save(update_fields=["updated_at"])  # changed since
    with pytest.raises(RuleError) as refused:
        services.filing_approve(filing=filing, actor=staff, seen_version=seen)
    assert refused.value.code == "changed_since_opened"
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    assert not AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve")
    current = services.filing_version(Filing.objects.get(pk=filing.pk))
    assert services.filing_approve(filing=filing, actor=staff, seen_version=current).status == (
        "approved"
    )


def test_rule_2_1_refusing_supplements_refuses_only_the_files_shown_and_not_one_supplied_since(
    client, demo
):
    filing = Filing.objects.get(number="BA210100000001")  # 李建国, commitment
    supply(client, demo)
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    refuse = button_fields(page, "refuse_materials")
    (shown,) = Material.objects.filter(filing=filing)
    assert refuse[f"_materials_{filing.pk}"] == [str(shown.pk)]
    asked = client.post(changelist(), refuse).content.decode()
    assert shown.original_name in asked  # the reason page names the file decided
    # The person supplies another file while the reason is typed.
    Material.objects.create(
        filing=filing,
        kind="household_register",
        stored_name="later.png",
        original_name="户口簿.png",
        content_type="image/png",
        size=10,
    )
    response = client.post(changelist(), {**refuse, "apply": "1", "reason": "居住证明模糊"})
    assert response.status_code == 200
    assert filing.number in response.context["form"].non_field_errors()[0]
    assert not Material.objects.filter(filing=filing, refused_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="filing.refuse_materials").exists()
    # Opened again, it shows both; refusing them records each file.
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    refuse = button_fields(page, "refuse_materials")
    assert len(refuse[f"_materials_{filing.pk}"]) == 2
    client.post(changelist(), {**refuse, "apply": "1", "reason": "居住证明模糊"})
    assert Material.objects.filter(filing=filing, refused_at__isnull=False).count() == 2
    files = AuditEvent.objects.filter(action="filing.refuse_materials.file")
    assert sorted(int(e.object_id) for e in files) == sorted(
        Material.objects.filter(filing=filing).values_list("pk", flat=True)
    )
    assert all(filing.number in e.object_repr and e.reason == "居住证明模糊" for e in files)
    # The filing's own event is as before (what the person reads on the timeline).
    assert AuditEvent.objects.get(action="filing.refuse_materials").reason == "居住证明模糊"


def test_rule_2_1_accepting_supplements_from_a_stale_page_is_refused(demo):
    filing = Filing.objects.get(number="BA210100000001")
    staff = demo["agency_shenyang"]
    first = Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="a.png",
        original_name="居住证明.png",
        content_type="image/png",
        size=10,
    )
    Material.objects.create(
        filing=filing,
        kind="household_register",
        stored_name="b.png",
        original_name="户口簿.png",
        content_type="image/png",
        size=10,
    )
    with pytest.raises(RuleError) as refused:
        services.filing_accept_materials(filing=filing, actor=staff, material_ids=[first.pk])
    assert refused.value.code == "materials_changed"
    assert "未受理也未拒收任何材料" in message(refused.value)
    assert Filing.objects.get(pk=filing.pk).materials_accepted_at is None
    assert not AuditEvent.objects.filter(action__startswith="filing.accept_materials").exists()
    ids = list(Material.objects.filter(filing=filing).values_list("pk", flat=True))
    services.filing_accept_materials(filing=filing, actor=staff, material_ids=ids)
    assert Filing.objects.get(pk=filing.pk).materials_accepted_at is not None
    assert AuditEvent.objects.filter(action="filing.accept_materials.file").count() == 2


def test_already_decided_names_an_approved_filing_not_yet_in_force_as_the_queue_does(demo):
    filing = Filing.objects.get(number="BA210100000002")
    staff = demo["agency_shenyang"]
    later = timezone.localdate() + datetime.timedelta(days=20)
    Filing.objects.filter(pk=filing.pk).update(start_date=later)
    approved = services.filing_approve(filing=Filing.objects.get(pk=filing.pk), actor=staff)
    assert approved.not_yet_in_force
    with pytest.raises(RuleError) as refused:
        services.filing_reject(filing=filing, actor=staff, reason="晚了")
    assert str(approved.get_status_display()) in message(refused.value)
    assert str(dict(Filing._meta.get_field("status").choices)["approved"]) not in message(
        refused.value
    )


def test_a_reject_of_a_filing_decided_meanwhile_is_refused_before_a_reason_is_asked(client, demo):
    """From the unfiltered list (or a search, or a link), Reject on a row approved meanwhile:
    named with its state, left out; with none left no reason page."""
    decided = Filing.objects.get(number="BA210100000002")
    services.filing_approve(filing=decided, actor=demo["agency_shenyang"])
    staff_login(client, "agency_shenyang")
    response = client.post(
        changelist(), {"action": "reject", "_selected_action": [decided.pk]}, follow=True
    )
    page = response.content.decode()
    assert 'name="reason"' not in page
    decided.refresh_from_db()
    assert f"{decided.number}：" in page and str(decided.get_status_display()) in page


def _referral_action(client, action: str, filing: Filing, seen: str, **data) -> str:
    response = client.post(
        changelist(),
        {"action": action, "_selected_action": [filing.pk], f"_seen_{filing.pk}": seen, **data},
        follow=True,
    )
    return response.content.decode()


@pytest.mark.parametrize("action", ["start_treatment", "extend_referral", "change_hospital"])
def test_rule_2_2_a_referral_action_from_a_page_opened_before_a_change_is_refused(
    client, demo, action
):
    """Start, extension and change of hospital decide the referral the reviewer's page showed:
    one changed meanwhile (another reviewer named another receiving hospital) is left as it is,
    named, and nothing is recorded; opened again, the same action goes through."""
    from hospitals.models import Hospital

    filing = Filing.objects.get(number="ZZ232700000001")  # approved, Daxinganling
    staff = demo["agency_dxal"]
    staff_login(client, "agency_dxal")
    seen = services.filing_version(filing)
    today = timezone.localdate()
    sanya = Hospital.objects.get(code="H46020000002")
    harbin_other = Hospital.objects.get(code="H23010300016")
    services.referral_change_hospital(filing=filing, actor=staff, hospital=sanya, reason="转院")
    changed = Filing.objects.get(pk=filing.pk)
    audit_before = AuditEvent.objects.filter(object_id=str(filing.pk)).count()
    data = {
        "start_treatment": ("start_treatment", {"started_on": today.isoformat()}),
        "extend_referral": (
            "extend_referral",
            {"until": (changed.valid_through + datetime.timedelta(days=5)).isoformat()},
        ),
        "change_hospital": ("change_receiving_hospital", {"hospital": harbin_other.pk}),
    }
    name, fields = data[action]
    fields = {"apply": "1", "reason": "病情需要", **fields}
    told = _referral_action(client, name, filing, seen, **fields)
    assert f"{filing.number}：{CHANGED}" in told
    now = Filing.objects.get(pk=filing.pk)
    assert (now.treatment_started_on, now.extended_until, now.receiving_hospital_id) == (
        None,
        None,
        sanya.pk,
    )
    assert AuditEvent.objects.filter(object_id=str(filing.pk)).count() == audit_before
    # With the version the referral has now, the same action goes through.
    _referral_action(client, name, filing, services.filing_version(now), **fields)
    after = Filing.objects.get(pk=filing.pk)
    assert (after.treatment_started_on, after.extended_until, after.receiving_hospital_id) != (
        None,
        None,
        sanya.pk,
    )
