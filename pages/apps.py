from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() autodiscovers workflows.py):
        # register the API FilterSets so that `status/filtered` accepts the list endpoints' filters.
        from pages import filters  # noqa: F401
