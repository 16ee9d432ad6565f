from django.urls import path

from hospitals.api import HospitalList

urlpatterns = [path("hospitals", HospitalList.as_view(), name="api-hospitals")]
