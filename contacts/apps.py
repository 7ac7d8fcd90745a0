from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() autodiscovers workflows.py):
        # register the API FilterSet so that `status/filtered` accepts the list endpoint's filters.
        from contacts import filters  # noqa: F401
