from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() autodiscovers workflows.py):
        # register the API FilterSet so that `status/filtered` accepts the list endpoint's filters.
        from contacts import filters  # noqa: F401
        # Contact extraction is the page scrape's next step: a stored page's content is queued in this app's
        # contact_extraction workflow, through the pages app's extension point.
        from contacts.services import page_content_extraction_queue
        from pages.contacts_hook import content_stored

        content_stored.provide(page_content_extraction_queue)
