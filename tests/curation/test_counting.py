"""Fast counts: exact while cheap, the planner's estimate when a count would take long (PostgreSQL)."""
import pytest
from django.db import connection, transaction

from curation.counting import FastCountPaginator, fast_count, planner_estimate, table_is_large
from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


def test_a_cheap_count_is_exact():
    WidgetFactory.create_batch(7)
    assert fast_count(Widget.objects.all()) == 7
    assert FastCountPaginator(Widget.objects.order_by("pk"), 5).num_pages == 2


@pytest.mark.postgres
def test_a_count_that_would_take_long_falls_back_to_the_planner_estimate(postgres_only, settings, caplog):
    WidgetFactory.create_batch(3)
    settings.COUNT_TIMEOUT_MS = 20
    slow = Widget.objects.extra(where=["pg_sleep(0.05) IS NOT NULL"])  # every row takes 50 ms to count
    with caplog.at_level("DEBUG", logger="curation.counting"):
        estimate = fast_count(slow)
    assert "estimated" in caplog.text, "the exact count was cut off"
    assert estimate == planner_estimate(slow)
    assert estimate >= 1


@pytest.mark.postgres
def test_the_statement_timeout_is_put_back_inside_an_outer_transaction(postgres_only, settings):
    settings.COUNT_TIMEOUT_MS = 20
    WidgetFactory.create_batch(2)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        before = cursor.fetchone()[0]
        assert fast_count(Widget.objects.all()) == 2
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == before, "a later slow query of the same request is not cut off"
        fast_count(Widget.objects.extra(where=["pg_sleep(0.05) IS NOT NULL"]))
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == before


def test_other_errors_are_not_mistaken_for_a_timeout():
    from django.db import DatabaseError

    with pytest.raises(DatabaseError):
        fast_count(Widget.objects.extra(where=["no_such_column = 1"]))


def test_a_small_table_is_not_large():
    WidgetFactory.create_batch(2)
    assert table_is_large(Widget, limit=1000) is False


@pytest.mark.postgres
def test_admin_lists_of_large_tables_count_facets_on_demand_only(postgres_only, admin_client, settings):
    from django.urls import reverse

    WidgetFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Widget._meta.db_table}")  # the statistics table_is_large reads
    url = reverse("admin:testapp_widget_changelist")
    settings.ADMIN_FACETS_MAX_ROWS = 1000
    small = admin_client.get(url).context["cl"]
    assert small.add_facets, "small tables show their counts at once"
    settings.ADMIN_FACETS_MAX_ROWS = 2
    large = admin_client.get(url)
    assert not large.context["cl"].add_facets and large.context["cl"].is_facets_optional
    assert large.context["cl"].result_count == 5, "a cheap count stays exact"
    assert admin_client.get(url + "?_facets=True").context["cl"].add_facets, "one click away"


def test_api_list_pages_use_the_fast_count():
    from scrapersky.api import PagePagination

    assert PagePagination.django_paginator_class is FastCountPaginator
