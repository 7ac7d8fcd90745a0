"""The generic workflow API (DESIGN §5): one set of views keyed by workflow name."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from curation import history, registry, selectors, services
from curation.choices import ProcessingStatus
from scrapersky.permissions import require_requeue


def _workflow_for_change(request, name: str):
    workflow = registry.get(name)
    opts = workflow.model_class._meta
    if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        raise PermissionDenied(f"Changing {opts.verbose_name_plural} needs the change permission")
    return workflow


class IdListField(serializers.ListField):
    """A list of row ids (strings or integers, at most 64 characters each).

    Checked in one loop rather than by a child field per item: a 10,000-id
    batch is the common case, and the service parses the ids again anyway.
    """

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=64), allow_empty=False, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        values = list(data)
        if not values:
            self.fail("empty")
        if len(values) > settings.CURATION_MAX_BATCH:
            raise serializers.ValidationError(f"At most {settings.CURATION_MAX_BATCH} ids per request")
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (str, int)) or len(str(v)) > 64]
        if bad:
            raise serializers.ValidationError(f"ids must be strings of at most 64 characters; got {bad[0]!r}")
        return [str(v) for v in values]


class StatusSetInput(serializers.Serializer):
    ids = IdListField()
    status = serializers.CharField(max_length=20, help_text="A curation status; the trigger (Selected) queues rows.")
    reprocess = serializers.BooleanField(default=False, help_text="Queue Completed rows again.")


class StatusSetFilteredInput(serializers.Serializer):
    filters = serializers.DictField(help_text="The list endpoint's filters, e.g. {\"deep_scan_processing_status\": [\"Error\"]}")
    status = serializers.CharField(max_length=20)
    reprocess = serializers.BooleanField(default=False)


class StatusSetOutput(serializers.Serializer):
    workflow = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    updated_count = serializers.IntegerField()
    queued_count = serializers.IntegerField()
    dequeued_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    not_found_ids = serializers.ListField(child=serializers.CharField())


class RequeueInput(serializers.Serializer):
    ids = IdListField()
    include_completed = serializers.BooleanField(default=False, help_text="Also re-run Completed rows.")
    error_class = serializers.CharField(required=False, allow_blank=False, max_length=20)


class RequeueOutput(serializers.Serializer):
    workflow = serializers.CharField()
    message = serializers.CharField()
    queued_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()


class WorkflowOverview(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    model = serializers.CharField()
    curation = serializers.BooleanField()
    trigger = serializers.CharField(allow_null=True)
    curation_counts = serializers.DictField(child=serializers.IntegerField())
    processing_counts = serializers.DictField(child=serializers.IntegerField())
    oldest_queued_age_seconds = serializers.FloatField(allow_null=True)
    completed_last_hour = serializers.IntegerField()
    errored_last_hour = serializers.IntegerField()
    errors_by_class = serializers.DictField(child=serializers.IntegerField())
    readiness_problem = serializers.CharField(allow_null=True)


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise services.CurationInputError(_flatten(serializer.errors))
    return serializer.validated_data


def _flatten(errors) -> str:
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {' '.join(map(str, v))}" for k, v in messages.items()]
        parts.append(f"{name}: {' '.join(map(str, messages))}")
    return "; ".join(parts)


class WorkflowListApi(APIView):
    # No one model: every authenticated user gets the workflows whose rows they may view.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: WorkflowOverview(many=True)}, summary="The workflows you may view, with counts")
    def get(self, request):
        def may_view(name: str) -> bool:
            opts = registry.get(name).model_class._meta
            return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

        return Response([row for row in selectors.workflows_overview() if may_view(row["name"])])


class WorkflowDetailApi(APIView):
    @extend_schema(responses={200: WorkflowOverview}, summary="One workflow with its counts by status")
    def get(self, request, workflow: str):
        return Response(selectors.workflow_overview(registry.get(workflow)))


class WorkflowStatusApi(APIView):
    @extend_schema(request=StatusSetInput, responses={200: StatusSetOutput}, summary="Set the curation status of rows by id")
    def put(self, request, workflow: str):
        wf = _workflow_for_change(request, workflow)
        data = _valid(StatusSetInput, request)
        if data["reprocess"]:
            require_requeue(request.user)
        result = services.curation_status_set(
            workflow=wf, ids=data["ids"], status=data["status"], reprocess=data["reprocess"], actor=request.user, source="api"
        )
        return Response(result.as_dict())


class WorkflowStatusFilteredApi(APIView):
    @extend_schema(request=StatusSetFilteredInput, responses={200: StatusSetOutput}, summary="Set the curation status of every row matching filters")
    def put(self, request, workflow: str):
        wf = _workflow_for_change(request, workflow)
        data = _valid(StatusSetFilteredInput, request)
        if data["reprocess"]:
            require_requeue(request.user)
        result = services.curation_status_set_filtered(
            workflow=wf, filters=data["filters"], status=data["status"], reprocess=data["reprocess"], actor=request.user, source="api"
        )
        return Response(result.as_dict())


class WorkflowRequeueApi(APIView):
    @extend_schema(request=RequeueInput, responses={200: RequeueOutput}, summary="Queue Error (and optionally Completed) rows again")
    def post(self, request, workflow: str):
        wf = _workflow_for_change(request, workflow)
        require_requeue(request.user)
        data = _valid(RequeueInput, request)
        statuses = [ProcessingStatus.ERROR.value] + ([ProcessingStatus.COMPLETED.value] if data["include_completed"] else [])
        result = services.processing_requeue(
            workflow=wf, ids=data["ids"], from_statuses=statuses, error_class=data.get("error_class"), actor=request.user, source="api"
        )
        return Response(result.as_dict())


class AttemptOutput(serializers.Serializer):
    workflow = serializers.CharField()
    attempt = serializers.IntegerField(help_text="1 on the first try; attempts released without being spent repeat the number")
    outcome = serializers.CharField(help_text="completed | retrying | error | lease_lost | worker_lost | released")
    outcome_label = serializers.CharField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(allow_null=True, help_text="How long the hook ran")
    worker = serializers.CharField(help_text="host:pid:thread of the worker")
    error_class = serializers.CharField()
    message = serializers.CharField()


class CurationEventOutput(serializers.Serializer):
    workflow = serializers.CharField()
    at = serializers.DateTimeField()
    curation_from = serializers.CharField()
    curation_to = serializers.CharField()
    processing_from = serializers.CharField()
    processing_to = serializers.CharField()
    actor = serializers.CharField()
    source = serializers.CharField()
    note = serializers.CharField()


class RowHistoryOutput(serializers.Serializer):
    workflow = serializers.CharField()
    id = serializers.CharField()
    processing_status = serializers.CharField(allow_null=True)
    attempts = AttemptOutput(many=True)
    curation_events = CurationEventOutput(many=True)


class WorkflowRowHistoryApi(APIView):
    @extend_schema(responses={200: RowHistoryOutput},
                   summary="A row's processing history in this workflow (every attempt: when, where, how long, "
                           "outcome, error) and its curation events, newest first")
    def get(self, request, workflow: str, pk: str):
        wf = registry.get(workflow)
        model = wf.model_class
        opts = model._meta
        if not request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            raise PermissionDenied(f"Reading {opts.verbose_name_plural} needs the view permission")
        try:
            value = opts.pk.to_python(pk)
        except ValidationError:
            value = None
        status = model.objects.filter(pk=value).values_list(wf.status_field, flat=True) if value is not None else None
        if not status:
            raise NotFound(f"No {opts.verbose_name} with id {pk!r}")
        data = history.row_history(workflows=[wf], pk=value)
        return Response({"workflow": wf.name, "id": str(value), "processing_status": status[0], **data})
