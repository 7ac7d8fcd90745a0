"""The django-q2 broker is the one the deployment asked for, and it carries tasks both ways.

`.ci/run` runs this file (and the worker reliability tests) twice: on the ORM broker and with
`REDIS_URL` set, so a Redis deployment is exercised by the same tests as the embedded default.
"""
import os
import uuid

import pytest
from django_q.brokers import get_broker
from django_q.signing import SignedPackage

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_broker_in_use_is_the_configured_one():
    broker = get_broker()
    expected = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    assert type(broker).__name__ == expected
    assert broker.ping()


def test_a_task_survives_the_round_trip_through_the_broker():
    broker = get_broker(list_key=f"test-{uuid.uuid4().hex}")  # its own queue: never steals a cluster's task
    try:
        package = SignedPackage.dumps({"id": "t1", "func": "curation.tasks.workflow_run", "args": ("widget_check",)})
        broker.enqueue(package)
        assert broker.queue_size() == 1
        received = broker.dequeue()
        assert received, "the task came back out"
        ack_id, payload = received[0]
        assert SignedPackage.loads(payload)["args"] == ("widget_check",)
        if ack_id is not None:
            broker.acknowledge(ack_id)
        assert broker.queue_size() == 0
    finally:
        broker.delete_queue()
