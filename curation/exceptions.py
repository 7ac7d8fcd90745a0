"""Errors a workflow hook raises to tell the engine what to do with the row.

Any other exception counts as retryable (class `bug`) until the workflow's
`max_attempts` is reached. Messages are shown to curators: make them specific
("HTTP 404 from https://example.com/sitemap.xml"), never generic.
"""
from __future__ import annotations


class ErrorClass:
    """The error classes curators filter and retry by (DESIGN §2)."""

    NETWORK = "network"
    TIMEOUT = "timeout"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"
    QUOTA = "quota"
    PARSE = "parse"
    NOT_FOUND = "not_found"
    CONFIG = "config"
    WORKER_LOST = "worker_lost"
    DATABASE = "database"  # the database was unreachable mid-row: retried, no attempt spent
    BUG = "bug"
    # Fetcher-specific classes (pages/fetch.py)
    TOO_LARGE = "too_large"
    SSRF_REFUSED = "ssrf_refused"
    BAD_REDIRECT = "bad_redirect"  # a redirect whose Location is no usable URL

    ALL = (
        NETWORK, TIMEOUT, HTTP_4XX, HTTP_5XX, RATE_LIMITED, BLOCKED, QUOTA, PARSE,
        NOT_FOUND, CONFIG, WORKER_LOST, DATABASE, BUG, TOO_LARGE, SSRF_REFUSED, BAD_REDIRECT,
    )


class WorkflowError(Exception):
    """Base class: a message for curators plus an error class."""

    default_error_class = ErrorClass.BUG

    def __init__(self, message: str, *, error_class: str | None = None):
        super().__init__(message)
        self.message = message
        self.error_class = error_class or self.default_error_class


class RetryableError(WorkflowError):
    """Temporary failure: the row goes back to Queued with backoff.

    `retry_after` (seconds) asks for at least that delay (e.g. a Retry-After header).
    """

    default_error_class = ErrorClass.NETWORK

    def __init__(self, message: str, *, error_class: str | None = None, retry_after: float | None = None):
        super().__init__(message, error_class=error_class)
        self.retry_after = retry_after


class PermanentError(WorkflowError):
    """The row can never succeed as it is: it goes to Error at once."""

    default_error_class = ErrorClass.NOT_FOUND


class WorkflowPaused(RetryableError):
    """The workflow cannot spend more now (e.g. a daily API budget is used up).

    The row is released back to Queued without counting an attempt, and the
    run stops claiming rows; the message says why and until when.
    """

    default_error_class = ErrorClass.QUOTA
