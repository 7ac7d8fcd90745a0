from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from curation.admin_views import operator_status_view, operator_view

api_v3 = [
    path("auth/token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]), name="docs"),
    path("", include("curation.urls")),
    # The original system's routes (issue #13) first: they share some paths with ours (docs/api-compat.md).
    path("", include("curation.legacy_urls")),
    path("", include("places.legacy")),
    path("", include("pages.legacy")),
    path("", include("contacts.legacy")),
    path("", include("places.urls")),
    path("", include("pages.urls")),
    path("", include("contacts.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/operator/", admin.site.admin_view(operator_view), name="curation-operator"),
    path("admin/operator/status/", admin.site.admin_view(operator_status_view), name="curation-operator-status"),
    path("admin/", admin.site.urls),
    path("api/v3/", include(api_v3)),
]
