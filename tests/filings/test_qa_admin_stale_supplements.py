"""A decision on supplemented materials from a page opened before another reviewer decided
them: the filing is still approved, so the refusal says the files changed, not its state."""

import pytest

from filings import services
from filings.models import Filing, Material
from tests.filings.test_supplement_review import NUMBER, changelist, supply
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["refuse_materials", "accept_materials"])
def test_a_stale_decision_on_materials_decided_meanwhile_says_the_materials_changed(
    client, demo, action
):
    filing = Filing.objects.get(number=NUMBER)
    supply(client, demo)
    shown = list(Material.objects.filter(filing=filing).values_list("pk", flat=True))
    # Reviewer A accepts them; reviewer B decides on the page he opened before.
    services.filing_accept_materials(
        filing=filing, actor=demo["agency_shenyang"], material_ids=shown
    )
    staff_login(client, "agency_shenyang")
    response = client.post(
        changelist(),
        {"action": action, "_selected_action": filing.pk, f"_materials_{filing.pk}": shown},
        follow=True,
    )
    page = response.content.decode()
    assert 'name="reason"' not in page
    assert f"{NUMBER}：" in page and "其补充材料已有变化" in page
    assert "此操作已不适用" not in page
