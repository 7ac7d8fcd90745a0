from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from curation.admin_views import operator_status_view, operator_view
from scrapersky import auth

api_v3 = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", auth.TokenRefreshRotatingView.as_view(), name="token-refresh"),
    path("auth/logout/", auth.LogoutView.as_view(), name="token-logout"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]), name="docs"),
    path("", include("curation.urls")),
    # The original system's routes (issue #13) first: they share some paths with ours (docs/api-compat.md).
    path("", include("curation.legacy_urls")),
    path("", include("places.legacy")),
    path("", include("pages.legacy")),
    path("", include("contacts.legacy")),
    # Every model's resource, generated from the declarations (curation.resources).
    path("", include("curation.resource_urls")),
    path("", include("contacts.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/operator/", admin.site.admin_view(operator_view), name="curation-operator"),
    path("admin/operator/status/", admin.site.admin_view(operator_status_view), name="curation-operator-status"),
    path("admin/login/", auth.admin_login, name="admin-login-throttled"),  # before admin.site.urls: wins
    path("admin/", admin.site.urls),
    path("api/v3/", include(api_v3)),
]

# Under /api/ these answer JSON (scrapersky/errors.py); elsewhere Django's own pages. The middleware
# ApiJsonErrorsMiddleware covers what they cannot: DEBUG pages and Django views' 405.
handler400 = "scrapersky.errors.bad_request"
handler403 = "scrapersky.errors.permission_denied"
handler404 = "scrapersky.errors.page_not_found"
handler500 = "scrapersky.errors.server_error"
