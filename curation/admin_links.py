"""Related-object links in admin, contributed by the apps that own the related rows.

A later app links an earlier app's rows to its own (a business → its contacts) by registering a
`RelatedLink` from its admin.py; `WorkflowAdminMixin` (and `related_links_admin`) count and render them.
So the earlier app's admin imports nothing of the later one.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html


@dataclass(frozen=True)
class RelatedLink:
    """Rows of `target` related to a row of `source`: counted through `count_model.<count_field>` (default: the
    target's `via` field) and linked to `target`'s change list filtered by `?<param>=<pk>`."""

    key: str  # the column / annotation name on the source's admin, e.g. "contacts"
    source: str  # "places.LocalBusiness"
    target: str  # "contacts.Contact"
    via: str  # the target's field pointing at the source ("business")
    label: str  # "contact(s)"
    param: str | None = None  # the target change list's query parameter (default: via)
    count_model: str | None = None  # count these rows instead (e.g. "contacts.ContactSource" for pages)
    count_field: str | None = None
    description: str | None = None  # the column header (default: key)

    @property
    def annotation(self) -> str:
        return f"{self.key}_count"


_links: list[RelatedLink] = []


def register(link: RelatedLink) -> RelatedLink:
    if any(existing.source == link.source and existing.key == link.key and existing != link for existing in _links):
        raise ValueError(f"a related link {link.key!r} of {link.source} is registered twice")
    if link not in _links:
        _links.append(link)
    return link


def links_for(model) -> list[RelatedLink]:
    label = model._meta.label
    return [link for link in _links if link.source == label]


def count_expression(link: RelatedLink):
    """A correlated COUNT subquery (no join fan-out between several related tables)."""
    model = apps.get_model(link.count_model or link.target)
    field = link.count_field or link.via
    inner = (model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
             .annotate(n=Count("pk")).values("n")[:1])
    return Coalesce(Subquery(inner, output_field=IntegerField()), 0)


def annotations(model) -> dict:
    """name → count expression of every link registered for `model`."""
    return {link.annotation: count_expression(link) for link in links_for(model)}


def render(link: RelatedLink, obj) -> str:
    if obj is None or obj.pk is None:
        return "—"
    count = getattr(obj, link.annotation, None)
    if count is None:
        model = apps.get_model(link.count_model or link.target)
        count = model.objects.filter(**{link.count_field or link.via: obj.pk}).count()
    target = apps.get_model(link.target)._meta
    url = reverse(f"admin:{target.app_label}_{target.model_name}_changelist")
    return format_html('<a href="{}?{}={}">{} {}</a>', url, link.param or link.via, obj.pk, count, link.label)


@functools.cache
def column(link: RelatedLink):
    """A list_display / readonly_fields callable for one link (the same object each time, so the admin
    recognises it among the fields it already has)."""

    def display(obj):
        return render(link, obj)

    display.short_description = link.description or link.key
    display.admin_order_field = link.annotation
    display.__name__ = f"{link.key}_link"
    return display
