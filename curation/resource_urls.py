"""The routes of every model's resource, generated from the declarations (curation.resources)."""
from curation import resources

urlpatterns = resources.urlpatterns()
