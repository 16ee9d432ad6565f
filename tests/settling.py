"""A direct settlement as a hospital's API call makes it, for tests that need one to exist."""

from __future__ import annotations

from django.utils import timezone

from hospitals.models import Hospital
from settlement import services

WANG = ("232701195603120223", "王秀兰")  # Daxinganling, resettled in Sanya


def settle_today(
    amount: str = "10000.00", *, hospital: str = "H46020000002", who=WANG, items=None, **visit
):
    """`who` admitted and discharged today at `hospital` (an inpatient stay unless `visit` says
    otherwise), one class A line of `amount` (or the bill's `items`)."""
    today = timezone.localdate()
    return services.settle(
        hospital_id=Hospital.objects.get(code=hospital).pk,
        api_key_id=None,
        idempotency_key="",
        payload={
            "id_number": who[0],
            "name": who[1],
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today,
                "discharged_on": today,
                **visit,
            },
            "items": items or [{"code": "X1", "name": "住院费", "class": "A", "amount": amount}],
        },
    ).settlement
