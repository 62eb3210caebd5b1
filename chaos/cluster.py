"""node-loss: the stack on a cluster of three throwaway RabbitMQ nodes (own ports, node
names and data directories; the shared server untouched), and the fault that ``kill -9``s
the node leading the domain queues mid-run and brings it back."""
from __future__ import annotations

from collections import Counter

from chaos.faults import Fault
from chaos.invariants import Check
from harness.processes import kill_group, run
from harness.sagas import QUEUES
from harness.servers import ThrowawayRabbit


class ThrowawayCluster:
    """Three nodes joined into one cluster; quorum queues declared on it get a member on
    each. ``url`` lists every node, so clients fail over (``amqp://a;amqp://b;…``)."""

    def __init__(self, size: int = 3):
        self.nodes = [ThrowawayRabbit() for _ in range(size)]
        self.url = ";".join(n.url for n in self.nodes)
        self.vhost = "/"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        first = self.nodes[0].node
        for node in self.nodes[1:]:
            run([*node.ctl(), "stop_app"], timeout=120)
            run([*node.ctl(), "join_cluster", first], timeout=120)
            run([*node.ctl(), "start_app"], timeout=120)
        running = run([*self.ctl(), "cluster_status", "--formatter", "json"], timeout=60)
        missing = [n.node for n in self.nodes if n.node not in running.stdout]
        if missing:
            raise RuntimeError(f"nodes {missing} did not join the cluster: {running.stdout}")

    def alive(self) -> list[ThrowawayRabbit]:
        return [n for n in self.nodes if n.process is not None and n.process.alive]

    def ctl(self) -> list[str]:
        """rabbitmqctl of a running node."""
        return self.alive()[0].ctl()

    def leaders(self) -> dict:
        """The node leading each domain queue."""
        out = run([*self.ctl(), "list_queues", "-q", "--no-table-headers", "name", "leader"],
                  timeout=60).stdout
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in QUEUES:
                found[parts[0]] = parts[1]
        return found

    def node_named(self, name: str) -> ThrowawayRabbit:
        return next(n for n in self.nodes if n.node == name)

    def kill_9(self, node: ThrowawayRabbit) -> None:
        kill_group(node.process.pid)
        node.process.proc.wait()

    def close(self) -> None:
        for node in self.nodes:
            node.close()


class NodeLoss(Fault):
    """Once ``when()`` holds (or the load is over), ``kill -9`` the node leading most
    domain queues; start it again ``down_for`` seconds later (it rejoins the cluster)."""

    name = "kill -9 of the leading RabbitMQ node"

    def __init__(self, cluster: ThrowawayCluster, *, when, down_for: float):
        super().__init__()
        self.cluster, self.when, self.down_for = cluster, when, down_for
        self.killed = self.led = None
        self.killed_at = self.restarted_at = None

    def run(self) -> None:
        leaders = self.cluster.leaders()  # looked up first: rabbitmqctl takes seconds
        self.killed = Counter(leaders.values()).most_common(1)[0][0]
        self.led = sorted(q for q, n in leaders.items() if n == self.killed)
        node = self.cluster.node_named(self.killed)
        while not (self.when() or self.load_done.is_set()):
            self.load_done.wait(0.05)
        self.cluster.kill_9(node)
        self.killed_at = self.now()
        self.pause_until(self.killed_at + self.down_for)
        node.start()
        self.restarted_at = self.ended_at = self.now()

    def took_effect(self, run) -> Check:
        if self.restarted_at is None:
            return Check("fault injected", False, "no node was killed and brought back")
        during = [a for p in run.purchases for a in p.attempts
                  if self.killed_at <= a.at <= self.restarted_at]
        return Check("fault injected", bool(during) and bool(self.led),
                     f"kill -9 of {self.killed} (leader of {', '.join(self.led)}) at "
                     f"{self.killed_at:.1f}s, back at {self.restarted_at:.1f}s; "
                     f"{len(during)} purchase attempt(s) meanwhile")
