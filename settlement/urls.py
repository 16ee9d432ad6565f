from django.urls import path

from settlement import views

app_name = "settlement"
urlpatterns = [path("estimate/", views.estimate, name="estimate")]
