from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from filings.document_views import VerifyView, document_download, verify_page
from hospitals.api_errors import not_found as api_not_found
from hospitals.eligibility_api import EligibilityView
from hospitals.eligibility_views import eligibility_check
from hospitals.referral_views import (
    referral_detail,
    referral_follow_up,
    referral_list,
    referral_start_treatment,
)
from portal import views
from portal.api_schema import SchemaView
from settlement import hospital_views

api_v1 = [
    path("eligibility", EligibilityView.as_view(), name="api-eligibility"),
    path("verify/<str:token>", VerifyView.as_view(), name="api-verify"),
    path("", include("hospitals.api_urls")),
    path("", include("filings.api_urls")),
    path("", include("settlement.api_urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links (the API docs, a PDF, a JSON body).
    path("favicon.ico", views.favicon),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notifications, name="notifications"),
    path("session/keep-alive/", views.keep_alive, name="keep-alive"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("hospitals/check/", eligibility_check, name="eligibility-check"),
    path("hospitals/referrals/", referral_list, name="referrals"),
    path("hospitals/referrals/<str:number>/", referral_detail, name="referral-detail"),
    path(
        "hospitals/referrals/<str:number>/start/",
        referral_start_treatment,
        name="referral-start-treatment",
    ),
    path(
        "hospitals/referrals/<str:number>/follow-up/",
        referral_follow_up,
        name="referral-follow-up",
    ),
    # Before hospitals.urls, whose "<code>/" would take "settlements/".
    path("hospitals/settlements/", hospital_views.settlement_list, name="hospital-settlements"),
    path(
        "hospitals/settlements.csv", hospital_views.settlement_csv, name="hospital-settlements-csv"
    ),
    path(
        "hospitals/settlements/<str:number>/",
        hospital_views.settlement_detail,
        name="hospital-settlement",
    ),
    path("hospitals/", include("hospitals.urls")),
    path("verify/<str:token>/", verify_page, name="verify-page"),
    path("documents/<str:number>/<str:kind>.pdf", document_download, name="document-download"),
    path("filings/", include("filings.urls")),
    path("settlement/", include("settlement.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Last: any other path under /api/ answers the API's JSON 404, with DEBUG on or off (a
    # handler404 would serve only with DEBUG off). Unnamed: it is no route of its own.
    re_path(r"^api/", api_not_found),
]
