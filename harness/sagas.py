"""What the harness knows of sagas and queues: the terminal statuses, the domain queues,
and waiting until sagas have finished."""
from __future__ import annotations

import uuid

from contracts.statuses import SagaStatus
from harness.processes import wait_for

#: a saga in one of these has finished: nothing more happens to it
TERMINAL = SagaStatus.terminal()
#: the domain queues, a worker each (celeryconfig's DOMAIN_QUEUES, the Procfile's workers)
QUEUES = ("tickets", "payments", "orchestration", "users")


def wait_terminal(saga_ids, timeout: float = 60.0) -> dict:
    """Wait until every saga is terminal, read from this process's database; their records
    by id (as given)."""
    from workers.orchestration.queries import get_saga

    pending = set(saga_ids)
    done: dict = {}

    def all_terminal():
        for sid in list(pending):
            saga = get_saga(uuid.UUID(str(sid)))
            if saga and saga["status"] in TERMINAL:
                done[str(sid)] = saga
                pending.discard(sid)
        return not pending

    wait_for(all_terminal, timeout=timeout, interval=0.1,
             what=f"{len(pending)} saga(s) to finish")
    return done
