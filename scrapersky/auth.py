"""Logging in, to the API and to the admin: throttles, token rotation and revocation, logout.

- Every login attempt (API token endpoint or admin login form) counts against
  two throttles kept in the shared cache: per client address and per
  username (LOGIN_THROTTLE_RATE, 10/min by default); over either, 429.
- A refresh returns a new refresh token and blacklists the old one
  (simplejwt rotation + token_blacklist); logout blacklists it explicitly.
- Tokens carry a hash of the password they were issued under
  (CHECK_REVOKE_TOKEN): after a password change the API refuses them, and the
  refresh endpoint refuses to mint new ones from them.
- A refresh token of a deleted or deactivated user is a 401, not a 500
  (simplejwt's serializer does `objects.get()` unguarded).
"""
from __future__ import annotations

import math

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.utils.html import escape
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from scrapersky.throttles import LOGIN_THROTTLES, LoginIPThrottle


class TokenObtainView(TokenObtainPairView):
    throttle_classes = LOGIN_THROTTLES


class CheckedTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh plus: the user still exists and is active, and the password has not changed."""

    def validate(self, attrs):
        refresh = RefreshToken(attrs["refresh"])  # signature, expiry, type, blacklist (TokenError -> 401)
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed("No active account found for the given token.", "no_active_account")
        if jwt_settings.CHECK_REVOKE_TOKEN and refresh.payload.get(
                jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The password has changed since this token was issued; log in again.",
                                       "password_changed")
        return super().validate(attrs)


class TokenRefreshRotatingView(TokenRefreshView):
    """POST {"refresh"} -> {"access", "refresh"}: the refresh token sent is blacklisted (rotation)."""

    serializer_class = CheckedTokenRefreshSerializer
    throttle_classes = [LoginIPThrottle]


class LogoutOutput(serializers.Serializer):
    detail = serializers.CharField()


class LogoutView(TokenBlacklistView):
    """POST {"refresh"}: blacklist the refresh token; access tokens expire on their own (JWT_ACCESS_MINUTES)."""

    serializer_class = TokenBlacklistSerializer
    throttle_classes = [LoginIPThrottle]

    @extend_schema(responses={200: LogoutOutput}, summary="Log out: revoke a refresh token")
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response({"detail": "Logged out: the refresh token is revoked."}, status=status.HTTP_200_OK)


def admin_login(request, extra_context=None):
    """The admin login form behind the same two login throttles as the API's token endpoint."""
    if request.method == "POST":
        for throttle_class in LOGIN_THROTTLES:
            throttle = throttle_class()
            if not throttle.allow_request(request, None):
                wait = max(1, math.ceil(throttle.wait() or 1))
                response = HttpResponse(
                    "<!doctype html><title>Too many login attempts</title>"
                    f"<h1>Too many login attempts</h1><p>Try again in {escape(wait)} seconds.</p>",
                    status=429,
                )
                response["Retry-After"] = str(wait)
                return response
    return admin.site.login(request, extra_context)
