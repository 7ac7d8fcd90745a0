from django.urls import path

from curation import api
from curation.resources import WorkflowRowsViewSet

urlpatterns = [
    path("workflows/", api.WorkflowListApi.as_view(), name="workflow-list"),
    path("workflows/<slug:workflow>/", api.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path("workflows/<slug:workflow>/status", api.WorkflowStatusApi.as_view(), name="workflow-status"),
    path("workflows/<slug:workflow>/status/filtered", api.WorkflowStatusFilteredApi.as_view(), name="workflow-status-filtered"),
    path("workflows/<slug:workflow>/requeue", api.WorkflowRequeueApi.as_view(), name="workflow-requeue"),
    # Every workflow's rows, from the registry (curation.resources): no view code per workflow.
    path("workflows/<slug:workflow>/rows/", WorkflowRowsViewSet.as_view({"get": "list"}), name="workflow-rows"),
    path("workflows/<slug:workflow>/rows/<uuid:pk>/", WorkflowRowsViewSet.as_view({"get": "retrieve"}),
         name="workflow-row"),
    path("workflows/<slug:workflow>/rows/<str:pk>/history", api.WorkflowRowHistoryApi.as_view(),
         name="workflow-row-history"),
]
