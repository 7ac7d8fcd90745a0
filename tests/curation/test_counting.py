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
