"""API routes of the places app (mounted under /api/v3/)."""
urlpatterns: list = []
