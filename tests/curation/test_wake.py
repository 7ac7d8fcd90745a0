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
