"""API routes of the contacts app (mounted under /api/v3/)."""
urlpatterns: list = []
