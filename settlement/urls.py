from django.urls import path

from settlement import claim_views, clearing_views, person_views, stats_views, views

app_name = "settlement"
urlpatterns = [
    path("estimate/", views.estimate, name="estimate"),
    path("mine/", person_views.settlement_list, name="settlements"),
    path("claims/", claim_views.claim_list, name="claims"),
    path("claims/new/", claim_views.claim_new, name="claim-new"),
    path("claims/<str:number>/", claim_views.claim_detail, name="claim-detail"),
    path("claims/<str:number>/resubmit/", claim_views.claim_resubmit, name="claim-resubmit"),
    path(
        "claims/<str:number>/documents/<int:pk>/",
        claim_views.claim_document,
        name="claim-document",
    ),
    path("clearing/<str:number>.csv", clearing_views.statement_csv, name="statement-csv"),
    path("clearing/<str:number>.pdf", clearing_views.statement_pdf, name="statement-pdf"),
    path("dashboard/", stats_views.dashboard, name="dashboard"),
    path("dashboard/<slug:chart>.csv", stats_views.dashboard_csv, name="dashboard-csv"),
]
