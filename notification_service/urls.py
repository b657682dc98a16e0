from django.contrib import admin
from django.urls import path

from notifications.web import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
]
