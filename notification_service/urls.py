from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from notifications.api.app import api
from notifications.observability import views as ops
from notifications.web import views

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("inbox/", views.inbox_page, name="inbox-page"),
    path("inbox/demo-token", views.demo_token, name="inbox-demo-token"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/data", views.dashboard_data, name="dashboard-data"),
    path("dashboard/records/<int:record_id>/retry", views.dashboard_retry, name="dashboard-retry"),
    path("admin/", admin.site.urls),
    path("", views.index, name="index"),
]
