"""The benchmark's pause of the workers (its gateway run with the workers paused) gives
every worker back exactly the queues it read: a broadcast ``add_consumer`` would have each
worker read every domain queue for the rest of the run."""
import pytest

from bench.baseline import consumers_of, consumers_paused
from tests.integration.conftest import QUEUES
from workers.celery_app import app

pytestmark = pytest.mark.usefixtures("worker_processes")


def test_paused_workers_resume_on_their_own_queues_only():
    before = consumers_of(app, QUEUES)
    for q in QUEUES:
        assert f"{q}@test" in before[q], before
        assert not any(w.startswith(tuple(f"{o}@" for o in QUEUES if o != q)) for w in before[q])

    with consumers_paused(app, QUEUES):
        assert consumers_of(app, QUEUES) == {q: [] for q in QUEUES}

    assert consumers_of(app, QUEUES) == before
