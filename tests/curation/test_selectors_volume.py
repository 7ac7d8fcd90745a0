"""Operator-page counts on large tables: exact for in-flight statuses, estimated from statistics otherwise."""
import pytest
from django.db import connection

from curation import registry, selectors
from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def analyse():
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Widget._meta.db_table}")


def test_small_tables_are_counted_exactly(settings):
    WidgetFactory.create_batch(3)
    WidgetFactory(errored=True)
    overview = selectors.workflow_overview(registry.get("widget_check"))
    assert overview["approximate"] is False
    assert overview["processing_counts"]["Error"] == 1


def test_large_tables_estimate_the_big_buckets_and_count_in_flight_rows_exactly(settings):
    WidgetFactory.create_batch(40)
    WidgetFactory.create_batch(2, errored=True)
    analyse()
    WidgetFactory.create_batch(3, queued=True)  # after the statistics: only an exact count sees them
    settings.ADMIN_FACETS_MAX_ROWS = 10  # "large" from 10 rows on
    wf = registry.get("widget_check")
    overview = selectors.workflow_overview(wf)
    assert overview["approximate"] is True
    assert overview["processing_counts"]["Queued"] == 3, "in-flight statuses stay exact"
    exact_new = Widget.objects.filter(**{wf.curation_field: "New"}).count()
    assert overview["curation_counts"]["New"] == pytest.approx(exact_new, abs=1), "statistics of an analysed table"


def test_the_estimate_follows_the_statistics_not_a_scan():
    WidgetFactory.create_batch(20)
    analyse()
    wf = registry.get("widget_check")
    before = selectors.estimated_value_counts(Widget, wf.curation_field)
    WidgetFactory.create_batch(20)  # not analysed yet: the estimate does not move
    assert selectors.estimated_value_counts(Widget, wf.curation_field) == before
