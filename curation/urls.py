from django.urls import path

from curation import api

urlpatterns = [
    path("workflows/", api.WorkflowListApi.as_view(), name="workflow-list"),
    path("workflows/<slug:workflow>/", api.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path("workflows/<slug:workflow>/status", api.WorkflowStatusApi.as_view(), name="workflow-status"),
    path("workflows/<slug:workflow>/status/filtered", api.WorkflowStatusFilteredApi.as_view(), name="workflow-status-filtered"),
    path("workflows/<slug:workflow>/requeue", api.WorkflowRequeueApi.as_view(), name="workflow-requeue"),
]
