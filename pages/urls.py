"""API routes of the pages app (mounted under /api/v3/)."""
urlpatterns: list = []
