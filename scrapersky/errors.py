"""Errors never leak: every error under /api/ is JSON (whatever DEBUG is), and error pages hide secrets.

DRF's own errors already go through scrapersky.api.exception_handler. What is
left are the responses Django makes itself: a URL no pattern matches (404), a
Django view refusing a method (405), an exception outside DRF (500, or the
debug page when DEBUG is on), a request body too large (400). Under /api/ the
middleware below turns each of them into the API's one error shape,
`{"detail": "..."}`; handler404/handler500 do the same when DEBUG is off.
"""
from __future__ import annotations

import re

from django.http import HttpResponseBadRequest, JsonResponse
from django.views import defaults
from django.views.debug import SafeExceptionReporterFilter

API_PREFIX = "/api/"

_MESSAGES = {
    400: "Bad request.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    413: "Request body too large.",
    429: "Request was throttled.",
    500: "Internal server error; it has been logged.",
}


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(request, status: int, detail: str | None = None) -> JsonResponse:
    if detail is None:
        if status == 405:
            detail = f'Method "{request.method}" not allowed.'
        else:
            detail = _MESSAGES.get(status) or ("Server error." if status >= 500 else "Request failed.")
    return JsonResponse({"detail": detail}, status=status)


class ApiJsonErrorsMiddleware:
    """Under /api/, replace any non-JSON error response (HTML debug pages included) by `{"detail": ...}`."""

    _KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not is_api(request):
            return response
        if response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "application/problem+json"):
            return response
        replacement = json_error(request, response.status_code)
        for header in self._KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement


class RejectNulMiddleware:
    """A NUL character in the query string is a 400 with a message, before any view or database sees it.

    PostgreSQL cannot hold NUL in a text value, so a NUL in an admin list filter or search used to
    end as a 500 (psycopg refuses the parameter). Nothing legitimate sends one.
    """

    MESSAGE = "The query string contains a NUL character (%00); nothing was done."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query or any("\x00" in key or any("\x00" in v for v in values)
                                                    for key, values in request.GET.lists()):
            if is_api(request):
                return json_error(request, 400, self.MESSAGE)
            return HttpResponseBadRequest(self.MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def page_not_found(request, exception=None):
    if is_api(request):
        return json_error(request, 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return json_error(request, 500)
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if is_api(request):
        return json_error(request, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return json_error(request, 403)
    return defaults.permission_denied(request, exception)


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^@/\s]+)@",
                              re.IGNORECASE)


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter (names with KEY, SECRET, PASS, TOKEN...) plus the passwords inside URLs.

    DATABASE_URL, REDIS_URL and django-q2's broker URL are not secret names, but
    their values carry a password: `postgres://user:secret@db` shows as
    `postgres://user:********************@db` on a debug page or in an error report.
    """

    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION", flags=re.I)

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{self.cleansed_substitute}@", cleansed)
        return cleansed

