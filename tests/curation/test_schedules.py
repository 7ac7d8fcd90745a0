import pytest
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler

from curation import registry
from curation.schedules import schedules_sync

pytestmark = pytest.mark.django_db


def names():
    return sorted(Schedule.objects.filter(name__startswith="curation:").values_list("name", flat=True))


def test_sync_creates_a_run_and_a_rescue_schedule_per_workflow():
    result = schedules_sync()
    expected = sorted(f"curation:{wf.name}:{kind}" for wf in registry.all_workflows() for kind in ("run", "rescue"))
    assert names() == expected
    assert sorted(result.created) == expected
    run = Schedule.objects.get(name="curation:widget_check:run")
    assert run.func == "curation.tasks.workflow_run"
    assert run.args == "('widget_check',)"
    assert (run.schedule_type, run.minutes, run.repeats) == (Schedule.MINUTES, 1, -1)


def test_sync_is_idempotent_and_repairs_duplicates_and_edits():
    schedules_sync()
    first = names()
    Schedule.objects.create(name="curation:widget_check:run", func="x.y", schedule_type=Schedule.MINUTES, minutes=9)
    Schedule.objects.filter(name="curation:widget_index:run").update(minutes=30)
    result = schedules_sync()
    assert names() == first
    assert result.created == [] and "curation:widget_index:run" in result.updated
    assert Schedule.objects.get(name="curation:widget_index:run").minutes == 1
    again = schedules_sync()
    assert again.created == again.updated == again.deleted == []


def test_sync_removes_schedules_of_workflows_that_no_longer_exist():
    Schedule.objects.create(name="curation:gone_workflow:run", func="curation.tasks.workflow_run", schedule_type=Schedule.MINUTES, minutes=1)
    Schedule.objects.create(name="someone-elses-schedule", func="math.floor", schedule_type=Schedule.MINUTES, minutes=1)
    result = schedules_sync()
    assert result.deleted == ["curation:gone_workflow:run"]
    assert Schedule.objects.filter(name="someone-elses-schedule").exists()


@pytest.mark.django_db(transaction=True)
def test_scheduler_enqueues_once_per_due_schedule_and_advances_next_run():
    from django_q.brokers import get_broker

    schedules_sync()
    broker = get_broker()
    broker.purge_queue()
    scheduler(broker=broker)
    due = Schedule.objects.filter(name__startswith="curation:").count()
    assert OrmQ.objects.count() == due
    scheduler(broker=broker)
    assert OrmQ.objects.count() == due, "next_run moved on: nothing is enqueued twice"
