"""The project's URLs plus views that fail in each way Django can, under /api/ and elsewhere (tests only)."""
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from scrapersky.urls import handler400, handler403, handler404, handler500, urlpatterns as project  # noqa: F401


def boom(request):
    raise RuntimeError("internal detail that must not leak")


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_boom(request):
    raise RuntimeError("internal detail that must not leak")


@require_GET
def get_only(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v3/_test/boom/", boom),
    path("api/v3/_test/drf-boom/", drf_boom),
    path("api/v3/_test/get-only/", get_only),
    path("elsewhere/boom/", boom),
    *project,
]
