"""The legacy routes generated from the workflow registry (curation.legacy), mounted under /api/v3/."""
from curation import legacy

urlpatterns = legacy.urlpatterns()
