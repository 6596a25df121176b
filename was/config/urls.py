from django.contrib import admin
from django.urls import path

from feed import views

urlpatterns = [
    path("", views.home, name="home"),
    path("whoami", views.whoami, name="whoami"),
    path("admin/", admin.site.urls),
]
