"""The servers a scenario (or a test that stops its broker) runs on.

``SharedServices`` is a throwaway database and vhost on the shared local PostgreSQL and
RabbitMQ (the test suite's provisioning), which are never stopped. A scenario that stops
its broker or database gets a server of its own: ``ThrowawayRabbit`` (a second RabbitMQ
node on free ports, with its own data and log dirs) or ``ThrowawayPostgres`` (initdb in a
temporary dir, run as ``postgres``). Both are stopped and their dirs removed on ``close``,
which also runs at exit.
"""
from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import tempfile
import uuid
from pathlib import Path

from harness import services as shared
from harness.processes import Managed, free_port, run, wait_for

PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBIT_SERVER = os.environ.get("CHAOS_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBIT_HOME = Path(os.environ.get("CHAOS_RABBITMQ_HOME", "/var/lib/rabbitmq"))  # its Erlang cookie


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def throwaway_servers_missing() -> str | None:
    """Why throwaway servers cannot run here (``None`` if they can): they are started as
    the ``rabbitmq`` and ``postgres`` users, which needs root and the server binaries."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "throwaway servers are started with runuser, as root"
    if not (Path(RABBIT_SERVER).exists() and _user_exists("rabbitmq")):
        return f"no RabbitMQ server at {RABBIT_SERVER} (CHAOS_RABBITMQ_SERVER)"
    if not ((PG_BIN / "initdb").exists() and _user_exists("postgres")):
        return f"no PostgreSQL binaries in {PG_BIN} (CHAOS_PG_BIN)"
    return None


def _owned_tempdir(prefix: str, user: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid)


def broker_answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=0)
        return True
    except Exception:  # noqa: BLE001  any failure means "not yet"
        return False


class SharedServices:
    """A fresh database and vhost on the shared servers, dropped on ``close``."""

    def __init__(self):
        self._provisioned = shared.provision()
        self.database_url = self._provisioned.database_url
        self.broker_url = self._provisioned.broker_url
        self.vhost = self._provisioned.vhost
        self.redis_url = shared.REDIS_URL
        atexit.register(self.close)

    def close(self) -> None:
        if self._provisioned is not None:
            shared.drop(self._provisioned)
            self._provisioned = None


class ThrowawayRabbit:
    """A RabbitMQ node of our own, to stop and start at will."""

    def __init__(self):
        self.dir = _owned_tempdir("chaos-rabbit-", "rabbitmq")
        self.node = f"chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.port, self.dist_port = free_port(), free_port()
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        _chown_tree(self.dir, "rabbitmq")
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.vhost = "/"
        self.process: Managed | None = None
        atexit.register(self.close)

    def _env(self) -> dict:
        d = self.dir
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(RABBIT_HOME),
                "LANG": "C.UTF-8", "RABBITMQ_NODENAME": self.node,
                "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf")}

    def start(self, timeout: float = 120) -> None:
        log = self.dir / "server.out"
        self.process = Managed("rabbitmq", ["runuser", "-u", "rabbitmq", "--", RABBIT_SERVER],
                               self._env(), log, cwd=self.dir)
        self.process.start()

        def up():
            if not self.process.alive:
                raise RuntimeError(f"RabbitMQ node {self.node} exited: "
                                   f"{self.process.log_text()[-1500:]}")
            return broker_answers(self.url)
        wait_for(up, timeout=timeout, interval=0.5, what=f"RabbitMQ node {self.node}")

    def stop(self) -> None:
        """Stop the node gracefully (as an operator would); kill it if that fails."""
        if self.process is None or not self.process.alive:
            return
        run(["rabbitmqctl", "-n", self.node, "stop"], timeout=60, check=False)
        try:
            wait_for(lambda: not self.process.alive, timeout=30, what="RabbitMQ to exit")
        except TimeoutError:
            pass
        self.process.stop(timeout=5)

    def ctl(self) -> list[str]:
        return ["rabbitmqctl", "-n", self.node]

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own (initdb in a temp dir, run as ``postgres``)."""

    def __init__(self):
        self.dir = _owned_tempdir("chaos-pg-", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._initialised = False
        atexit.register(self.close)

    def _as_postgres(self, *argv: str, timeout: float = 120):
        return run(["runuser", "-u", "postgres", "--", *argv], timeout=timeout)

    def start(self) -> None:
        if not self._initialised:
            self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust",
                              "-U", "postgres", "--no-sync", "-E", "UTF8")
            self._initialised = True
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.dir / "server.log"), "-w", "-t", "60", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        if self.postmaster_pid() is None:
            return
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                          "-t", "60", "stop")

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def create_database(self, name: str) -> str:
        from contextlib import closing

        import psycopg2

        with closing(psycopg2.connect(self.admin_url, connect_timeout=5)) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        try:
            self.stop(mode="immediate")
        except Exception:  # noqa: BLE001  fall back to killing it by process id
            self._kill()
        finally:
            self._kill()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _kill(self) -> None:
        pid = self.postmaster_pid()
        if pid is None:
            return
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid]
        for p in [pid, *children]:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return int(stat[stat.rfind(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None
