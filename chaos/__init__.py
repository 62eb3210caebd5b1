"""Fault-injection harness: the real stack under kills, outages and duplicate deliveries.

``make chaos`` (``python -m chaos``) runs five scenarios of 1,000 purchases each on
RabbitMQ, PostgreSQL and Redis. Each starts the Procfile's gateway (gunicorn), a Celery
worker per queue and beat, each in its own process group; drives purchases over HTTP
(mostly ``tok_visa``, some declined, over tiers that sell out); injects its fault; waits
for quiescence; and checks the saga invariants from the database and the broker:

1. ``kill-workers``: ``kill -9`` of a random member (main process or pool child) of a
   random worker's process group every 2 s; dead workers are restarted as a supervisor
   would, and every saga must be terminal within 60 s of the last kill
2. ``broker-outage``: a throwaway RabbitMQ node (own ports, dirs, node name) stopped once
   a third of the purchases are accepted, for a fifth of the load's planned duration,
   then started again; the gateway must keep answering 202
3. ``db-restart``: a throwaway PostgreSQL cluster (initdb in a temp dir) restarted, timed
   the same way
4. ``duplicate-delivery``: every task message published twice
   (``BOXOFFICE_FAULT_INJECTION=1 BOXOFFICE_DUPLICATE_PUBLISH=1``); the processor must
   still be asked once per charged saga
5. ``node-loss``: a cluster of three throwaway RabbitMQ nodes (quorum queues on each, the
   stack given every node's URL); the node leading the domain queues gets ``kill -9``
   once a third of the purchases are accepted and is started again later

The shared servers are never stopped: scenarios 1 and 4 get a fresh database and vhost
on them (as the test suite does), 2, 3 and 5 servers of their own. Deadlines are scaled
by the machine's load (``chaos.scenarios.slowness``). Every process and
server the harness starts is stopped by process id or group at the end, failure or not.
It prints a table of scenario × invariant and exits 1 if any invariant broke; a failing
scenario keeps its logs and a ``snapshot.json`` of every saga, hold, ticket and payment.

Options: ``python -m chaos --help`` (``make chaos CHAOS_ARGS="--scenario kill-workers
--purchases 200 --seed 7"``). ``CHAOS_PG_BIN``, ``CHAOS_RABBITMQ_SERVER`` and
``CHAOS_RABBITMQ_HOME`` (its Erlang cookie) locate the server binaries. The throwaway
servers are run as the ``rabbitmq`` and ``postgres`` users through ``runuser``: root is
needed. ``tests/integration/test_chaos.py`` runs the same scenarios at ~100 purchases.
Processes, their environment, the servers and the Procfile's stack come from the
``harness`` package, shared with the tests and the benchmarks.
"""
