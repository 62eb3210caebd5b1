"""Crash-proof sagas: the real stack (the Procfile's gunicorn gateway, a worker per queue
and beat) under worker kills, a broker outage, a database restart, duplicate deliveries
and the loss of a node of a three-node RabbitMQ cluster keeps every invariant. The same scenarios as ``make chaos``, at ~100
purchases each.

Each scenario gets its own database and vhost on the shared servers (kill-workers,
duplicate-delivery), or a throwaway RabbitMQ node / PostgreSQL cluster of its own that it
stops and starts (broker-outage, db-restart); the shared servers are never stopped.
A run's deadlines grow with the machine's load (``chaos.scenarios.slowness``), and each
test's timeout is above the longest run, so a slow machine gets a report, not a timeout.
"""
import dataclasses
import json

import pytest

from chaos.scenarios import SMALL, run_scenario, time_budget
from harness.servers import throwaway_servers_missing

BUDGET = time_budget(SMALL)
needs_throwaway_servers = pytest.mark.skipif(
    throwaway_servers_missing() is not None, reason=str(throwaway_servers_missing()))


def assert_every_invariant_held(run):
    broken = [c for c in run.checks if not c.ok]
    if broken:
        pytest.fail(f"{run.scenario}: {len(broken)} invariant(s) broken (logs and snapshot.json "
                    f"in {run.log_dir})\n" + "\n".join(
                        f"{c.name}: {c.detail}\n" + "\n".join(
                            "    " + json.dumps(o, default=str) for o in c.offenders[:10])
                        for c in broken), pytrace=False)


@pytest.mark.timeout(BUDGET)
def test_sagas_finish_within_a_minute_of_workers_killed_every_two_seconds():
    run = run_scenario("kill-workers", SMALL, seed=1)

    assert {k.role for k in run.fault.stack.kills} == {"main", "child"}
    assert len(run.accepted) == SMALL.purchases
    assert_every_invariant_held(run)


@needs_throwaway_servers
@pytest.mark.timeout(BUDGET)
def test_the_gateway_keeps_accepting_and_sagas_finish_across_a_broker_outage():
    run = run_scenario("broker-outage", SMALL, seed=2)

    assert run.fault.restarted_at is not None
    assert len(run.accepted) == SMALL.purchases
    assert_every_invariant_held(run)


@needs_throwaway_servers
@pytest.mark.timeout(BUDGET)
def test_workers_reconnect_and_sagas_finish_across_a_database_restart():
    run = run_scenario("db-restart", SMALL, seed=3)

    assert run.fault.restarted_at is not None
    assert len(run.accepted) == SMALL.purchases  # clients retried with their Idempotency-Key
    assert_every_invariant_held(run)


@pytest.mark.timeout(BUDGET)
def test_every_message_delivered_twice_changes_no_outcome():
    run = run_scenario("duplicate-delivery", SMALL, seed=4)

    assert len(run.accepted) == SMALL.purchases
    assert_every_invariant_held(run)
    # every message twice, yet the processor was asked once per charged saga
    assert run.counts["processor_calls"] == run.counts["charged_sagas"] > 0


NODE_LOSS = dataclasses.replace(SMALL, purchases=60)


@needs_throwaway_servers
@pytest.mark.timeout(time_budget(NODE_LOSS) + 120)  # and three nodes to start and cluster
def test_sagas_finish_and_nothing_is_lost_when_the_leading_broker_node_is_killed():
    run = run_scenario("node-loss", NODE_LOSS, seed=5)

    assert run.fault.restarted_at is not None and run.fault.led
    assert len(run.accepted) == NODE_LOSS.purchases
    assert_every_invariant_held(run)
    assert run.drain_seconds is not None
