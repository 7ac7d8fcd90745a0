"""The worker wake-up is handed to the services (no import of the tasks, which run the engine)."""
import pytest

from curation import services, tasks
from tests.factories import WidgetFactory

pytestmark = pytest.mark.django_db


def test_the_app_hands_the_tasks_wake_up_to_the_services():
    assert services._waker is tasks.wake


def test_queueing_wakes_a_worker_after_commit(wf_check, settings, django_capture_on_commit_callbacks):
    settings.CURATION_WAKE_ON_QUEUE = True
    woken = []
    saved = services._waker
    services.waker_set(woken.append)
    try:
        rows = WidgetFactory.create_batch(2)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.curation_status_set(workflow=wf_check, ids=[r.pk for r in rows], status="Selected", source="test")
        assert woken == ["widget_check"] and len(callbacks) == 1
        settings.CURATION_WAKE_ON_QUEUE = False
        services.curation_status_set(workflow=wf_check, ids=[rows[0].pk], status="Selected", reprocess=True,
                                     source="test")
        assert woken == ["widget_check"], "switched off: nobody is woken"
    finally:
        services.waker_set(saved)


def test_a_large_queue_wakes_several_worker_processes_of_the_cluster(wf_check, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 4}
    assert tasks.wake_count("widget_check") == 1, "nothing due: one wake-up (it finds the queue empty)"
    WidgetFactory.create_batch(wf_check.batch_size + 1, queued=True)
    assert tasks.wake_count("widget_check") == 2, "two batches due: two processes"
    WidgetFactory.create_batch(wf_check.batch_size * 4, queued=True)
    assert tasks.wake_count("widget_check") == 3, "all but one process: one stays free for the next stage"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    assert tasks.wake_count("widget_check") == 1, "two processes: one for this stage, one for the next"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 1}
    assert tasks.wake_count("widget_check") == 1


def test_queueing_row_by_row_wakes_once_per_window_and_once_after_it(wf_check, settings,
                                                                     django_capture_on_commit_callbacks):
    """page_scrape queues one contact_extraction row per page: the wake-ups are coalesced, and the last
    rows of a burst still get one (at the window's end) instead of waiting for the schedule."""
    import threading

    settings.CURATION_WAKE_ON_QUEUE = True
    settings.CURATION_WAKE_COALESCE_SECONDS = 2.0
    woken, fired = [], threading.Event()
    saved = services._waker
    services.waker_set(lambda name: (woken.append(name), len(woken) == 2 and fired.set()))
    try:
        rows = WidgetFactory.create_batch(5)
        for row in rows:
            with django_capture_on_commit_callbacks(execute=True):
                services.curation_status_set(workflow=wf_check, ids=[row.pk], status="Selected", source="test")
        assert woken == ["widget_check"], "one wake-up at once for the whole burst"
        assert fired.wait(10), "and one when the window ends"
        assert woken == ["widget_check", "widget_check"]
    finally:
        services.waker_set(saved)
