"""Project-wide API conventions: pagination and error format."""
from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import DataError
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from curation.counting import FastCountPaginator
from curation.registry import UnknownWorkflow
from curation.services import CurationInputError

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """Every error response: a readable message (endpoints may add fields, e.g. not_found_ids)."""

    detail = serializers.CharField()


class PagePagination(PageNumberPagination):
    """`?page=2&size=100` → {"count", "next", "previous", "results"}.

    A `size` that is not a whole number from 1 to 500 is a 400 (as on the staging endpoint), never
    silently capped: a client asking for 100,000 rows must learn it did not get them.
    """

    page_size = 50
    page_size_query_param = "size"
    max_page_size = 500
    django_paginator_class = FastCountPaginator  # exact while cheap, estimated on millions of rows

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {"size": [f"size must be a whole number from 1 to {self.max_page_size}, got {raw[:20]!r}."]})
        return size


def _error_body(data) -> dict:
    """Every error in one shape: {"detail": "..."} plus, for invalid input, the errors per field."""
    if isinstance(data, dict):
        if "detail" in data:
            return data
        parts = []
        for field, messages in data.items():
            first = messages[0] if isinstance(messages, list) and messages else messages
            parts.append(f"{field}: {first}" if field != "non_field_errors" else str(first))
        return {"detail": "Invalid input: " + "; ".join(parts), **data}
    if isinstance(data, list):
        return {"detail": " ".join(str(item) for item in data) or "Invalid input."}
    return {"detail": str(data)}


def exception_handler(exc, context):
    """JSON errors with a readable message; never a stack trace or internal exception text."""
    if isinstance(exc, CurationInputError):
        body = {"detail": exc.message}
        if exc.not_found_ids:
            body["not_found_ids"] = exc.not_found_ids
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UnknownWorkflow):
        return Response({"detail": str(exc.args[0])}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields, request body too large
        return Response({"detail": f"Bad request: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValueError) and "NUL" in str(exc):  # psycopg refuses NUL in a query parameter
        return Response({"detail": "A value in the request contains a NUL character; nothing was changed."},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):  # a filter value the database cannot hold (a 20-digit number, a year 40000)
        return Response(
            {"detail": "A value in the request is out of range (e.g. a number or date filter); nothing was changed."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _error_body(response.data)
        return response
    view = context.get("view")
    logger.exception("unhandled error in %s", type(view).__name__ if view else "API", exc_info=exc)
    return Response({"detail": "Internal server error; it has been logged."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

