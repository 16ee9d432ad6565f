from django.urls import path

from hospitals.api import HospitalList
from hospitals.fhir import CoverageEligibilityView

urlpatterns = [
    path("hospitals", HospitalList.as_view(), name="api-hospitals"),
    path("fhir/CoverageEligibilityRequest", CoverageEligibilityView.as_view(), name="api-fhir"),
]
