"""Words of the admin's lists and titles as a Chinese reviewer reads them."""

import datetime

import pytest
from django.urls import reverse

from portal.models import JobRun
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_places_and_organisations_have_a_name_not_a_persons_name(client, demo):
    """Hospitals, agencies, provinces and regions labelled their name column "姓名", a
    person's name; a notification's user is its recipient."""
    staff_login(client, "admin")
    for model in ("hospitals/hospital", "portal/agency", "portal/province", "portal/region"):
        html = client.get(f"/admin/{model}/").content.decode()
        assert "column-name" in html, model
        header = html.split('column-name">')[1].split("</th>")[0]
        assert "名称" in header and "姓名" not in header, model
    person = client.get(reverse("admin:portal_insuredperson_changelist")).content.decode()
    assert "姓名" in person  # a person's name stays 姓名
    from portal.models import Notification

    Notification.objects.create(user=demo["wangxiulan"], subject="备案已批准")
    notes = client.get(reverse("admin:portal_notification_changelist")).content.decode()
    assert "接收人" in notes.split("column-user")[1].split("</th>")[0]


def test_a_job_runs_title_gives_its_time_in_local_time(client, demo):
    started = datetime.datetime(2026, 11, 24, 12, 39, tzinfo=datetime.UTC)  # 20:39 in Beijing
    run = JobRun.objects.create(name="filings.nightly")
    JobRun.objects.filter(pk=run.pk).update(started_at=started)  # (auto_now_add)
    run.refresh_from_db()
    assert str(run).endswith("2026-11-24 20:39") and "filings.nightly" not in str(run)


def test_a_job_runs_page_says_what_it_did_in_words_and_keeps_other_regions_numbers_out(
    client, demo
):
    """Job names were code identifiers, details raw JSON with English keys, seconds to six
    decimals, and a clearing run listed every region's statement numbers to every agency."""
    run = JobRun.objects.create(
        name="settlement.clearing",
        rows=2,
        details={
            "period": "2026-10-01",
            "statements": 2,
            "settlements": 9,
            "numbers": ["QS202610-230100-232700-v1", "QS202610-210100-210200-v1"],
            "seconds": 0.010267,
        },
    )
    JobRun.objects.filter(pk=run.pk).update(
        finished_at=run.started_at + datetime.timedelta(seconds=0.010267)
    )
    staff_login(client, "agency_dxal")
    page = client.get(reverse("admin:portal_jobrun_change", args=[run.pk])).content.decode()
    assert "清算" in page and "settlement.clearing" not in page
    assert "生成的清算单" in page and "清算单编号" in page and '"statements"' not in page
    assert "QS202610-230100-232700-v1" in page
    assert "QS202610-210100-210200-v1" not in page  # Shenyang and Dalian's
    assert "0.010267" not in page
    listing = client.get(reverse("admin:portal_jobrun_changelist")).content.decode()
    assert '<td class="field-seconds">0.0</td>' in listing
