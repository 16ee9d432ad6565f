from django.urls import path

from hospitals import views

app_name = "hospitals"
urlpatterns = [
    path("", views.directory_list, name="directory"),
    path("desk/", views.staff_home, name="home"),
    path("<str:code>/", views.directory_detail, name="detail"),
]
