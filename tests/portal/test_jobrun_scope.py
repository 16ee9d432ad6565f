"""The scheduled jobs run for every region: their counts are the whole portal's and an error
may name any region's rows. Agency staff see when each job ran and what it did, by step, with
their own region's statement numbers; the counts and the error are the superusers'."""

import pytest
from django.urls import reverse

from portal.models import JobRun
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

ERROR = "IntegrityError: settlement 210100-000042 of person 210102199001011234"


def _run():
    return JobRun.objects.create(
        name="settlement.clearing",
        rows=4817,
        details={"statements": 2, "settlements": 9317, "numbers": ["QS202610-230100-232700-v1"]},
        error=ERROR,
    )


def test_agency_staff_see_no_whole_portal_counts_nor_errors_of_the_jobs(client, demo):
    run = _run()
    staff_login(client, "agency_dxal")
    listing = client.get(reverse("admin:portal_jobrun_changelist")).content.decode()
    assert "4817" not in listing and "4,817" not in listing
    assert ERROR not in listing and "field-error" not in listing
    page = client.get(reverse("admin:portal_jobrun_change", args=[run.pk])).content.decode()
    assert "9317" not in page and "4817" not in page and ERROR not in page
    assert "QS202610-230100-232700-v1" in page  # their own region's statement


def test_a_superuser_sees_the_jobs_counts_and_errors(client, demo):
    run = _run()
    staff_login(client, "admin")
    listing = client.get(reverse("admin:portal_jobrun_changelist")).content.decode()
    assert "4817" in listing and ERROR in listing
    page = client.get(reverse("admin:portal_jobrun_change", args=[run.pk])).content.decode()
    assert "9317" in page and ERROR in page
