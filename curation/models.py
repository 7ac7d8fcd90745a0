"""The audit trail: one append-only row per status change made by a person or the API."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class CurationEvent(models.Model):
    """Who changed which row's statuses, when, from what to what, in which workflow."""

    at = models.DateTimeField(db_index=True)
    workflow = models.CharField(max_length=64, db_index=True)
    model_label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    curation_from = models.CharField(max_length=20, blank=True, default="")
    curation_to = models.CharField(max_length=20, blank=True, default="")
    processing_from = models.CharField(max_length=20, blank=True, default="")
    processing_to = models.CharField(max_length=20, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, default="")
    source = models.CharField(max_length=20)  # admin | api | command | system
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model_label", "object_id"], name="curation_event_object_idx")]

    def __str__(self) -> str:
        return f"{self.workflow} {self.object_id}: {self.curation_from}→{self.curation_to} / {self.processing_from or '—'}→{self.processing_to or '—'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Curation events are append-only")
        super().save(*args, **kwargs)


class AttemptOutcome(models.TextChoices):
    COMPLETED = "completed", "Completed"
    RETRYING = "retrying", "Failed, queued again"
    ERROR = "error", "Failed"
    LEASE_LOST = "lease_lost", "Lease lost, results discarded"
    WORKER_LOST = "worker_lost", "Worker lost"
    RELEASED = "released", "Released, no attempt spent"


class ProcessingAttempt(models.Model):
    """One worker attempt at one row of one workflow: the processing history (append-only).

    Written in the same statement or transaction as the status change it records
    (`curation.services`), so the history and the row's status never disagree.
    """

    workflow = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    attempt = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)  # the hook's run time
    worker = models.CharField(max_length=100, blank=True, default="")  # host:pid:thread
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    error_class = models.CharField(max_length=20, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-finished_at", "-id"]
        indexes = [
            models.Index(fields=["workflow", "object_id", "finished_at"], name="curation_attempt_row_idx"),
            models.Index(fields=["finished_at"], name="curation_attempt_finished_idx"),  # the watchdog's "progress?"
        ]

    def __str__(self) -> str:
        return f"{self.workflow} {self.object_id} #{self.attempt}: {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Processing attempts are append-only")
        super().save(*args, **kwargs)
