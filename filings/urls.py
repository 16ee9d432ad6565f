from django.urls import path

from filings import views

app_name = "filings"
urlpatterns = [
    path("", views.filing_list, name="list"),
    path("new/<str:filing_type>/", views.filing_new, name="new"),
    path("materials/<int:pk>/", views.material_download, name="material"),
    path("materials/<int:pk>/preview/", views.material_preview, name="material-preview"),
    path("materials/<int:pk>/remove/", views.material_remove, name="material-remove"),
    path("<str:number>/", views.filing_detail, name="detail"),
    path("<str:number>/edit/", views.filing_edit, name="edit"),
]
