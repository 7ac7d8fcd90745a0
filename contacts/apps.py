from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workflows are registered by now (curation's ready() autodiscovers workflows.py):
        # register the API FilterSet so that `status/filtered` accepts the list endpoint's filters.
        from contacts import filters  # noqa: F401
        # Contact extraction is the page scrape's next step: pages calls it through its extension point.
        from contacts.services import page_contacts_extract, page_contacts_record
        from pages.contacts_hook import extract_page_contacts, record_page_contacts

        extract_page_contacts.provide(page_contacts_extract)
        record_page_contacts.provide(page_contacts_record)
