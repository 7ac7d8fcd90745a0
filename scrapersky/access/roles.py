"""The three groups ScraperSky ships, defined by rule so that a new model of a domain app joins them.

- viewer: reads everything (API GET, admin views, exports, stored page HTML).
- curator: a viewer who curates: select/reject rows (change), suppress contacts.
- operator: a curator who runs the machine: requeue/retry/re-run rows, start
  place searches, submit domains, sitemap files, pages and contacts by hand
  (and delete hand-made sitemap files and contacts), manage django-q2
  schedules and tasks.

Created by the data migration 0001 and brought up to date after every
migrate (post_migrate), so a model added later is covered. Do not edit these
three groups by hand (a migrate restores them): make your own for variations.
"""
from __future__ import annotations

DOMAIN_APPS = ("curation", "places", "pages", "contacts")  # plus settings.ACCESS_EXTRA_APPS (the tests' app)
REQUEUE_PERMISSION = "curation.requeue_rows"  # retry errors, re-run completed rows (admin and API)
_REQUEUE_CODENAME = "requeue_rows"

VIEWER, CURATOR, OPERATOR = "viewer", "curator", "operator"
# What an operator may enter into the machine by hand (API direct submissions, the legacy record routes) and
# remove again; every other add/delete stays with superusers or a group of the deployment's own.
_OPERATOR_ENTRIES = {
    ("places", "placesearch", "add"), ("pages", "domain", "add"), ("pages", "sitemapfile", "add"),
    ("pages", "page", "add"), ("contacts", "contact", "add"),
    ("pages", "sitemapfile", "delete"), ("contacts", "contact", "delete"),
}


def _domain_apps() -> tuple[str, ...]:
    from django.conf import settings

    return DOMAIN_APPS + tuple(getattr(settings, "ACCESS_EXTRA_APPS", ()))


def _wanted(codename: str, app_label: str, model: str) -> set[str]:
    """The groups a permission belongs to."""
    action = codename.split("_", 1)[0]
    groups: set[str] = set()
    if app_label in _domain_apps():
        if action == "view":
            groups |= {VIEWER, CURATOR, OPERATOR}
        elif action == "change":
            groups |= {CURATOR, OPERATOR}
        elif model == "suppression" and action in ("add", "delete"):
            groups |= {CURATOR, OPERATOR}
        elif (app_label, model, action) in _OPERATOR_ENTRIES:
            groups.add(OPERATOR)
        elif codename == _REQUEUE_CODENAME:
            groups.add(OPERATOR)
    elif app_label == "django_q":
        if action == "view":
            groups.add(OPERATOR)
        elif model == "schedule":
            groups.add(OPERATOR)
    return groups


def sync_groups(apps, *, using: str = "default") -> dict[str, int]:
    """Create the groups and the requeue permission if missing; give each group exactly its permissions."""
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    # Permissions are normally created after all migrations (post_migrate): make sure they exist now.
    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = True  # migration state stubs have none: create_permissions would skip them
        try:
            create_permissions(app_config, verbosity=0, apps=apps, using=using)
        finally:
            app_config.models_module = previous
    event_type, _ = ContentType.objects.using(using).get_or_create(app_label="curation", model="curationevent")
    Permission.objects.using(using).get_or_create(
        content_type=event_type, codename=_REQUEUE_CODENAME,
        defaults={"name": "Can requeue, retry and re-run workflow rows"})
    members: dict[str, list[int]] = {VIEWER: [], CURATOR: [], OPERATOR: []}
    for perm in Permission.objects.using(using).select_related("content_type"):
        for group in _wanted(perm.codename, perm.content_type.app_label, perm.content_type.model):
            members[group].append(perm.pk)
    for name, ids in members.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(ids)
    return {name: len(ids) for name, ids in members.items()}


def sync_after_migrate(sender, using="default", apps=None, **kwargs):
    if apps is None or sender.label != "access":
        return
    sync_groups(apps, using=using)
