from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "places"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() runs first and
        # autodiscovers workflows.py): register the API FilterSets with the engine,
        # so that `status/filtered` accepts the same filters as the list endpoints.
        from places import filters  # noqa: F401
