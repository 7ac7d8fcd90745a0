from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() autodiscovers workflows.py):
        # register the API FilterSets so that `status/filtered` accepts the list endpoints' filters.
        from pages import filters  # noqa: F401
        # places' domain extraction (WF3) hands each website's domain to this app through its extension point.
        from pages.services import domain_for_website
        from places.services import domain_found

        domain_found.provide(domain_for_website)
