"""``spool://``: the server-less broker of the embedded default.

kombu's ``filesystem://`` transport is sound in one process but not across several:
it creates a message file before writing it, so another process can read it empty
(kombu issue 1551), and it claims a message with ``shutil.move`` into the temp
directory, which copies across file systems and can hand one message to two workers.
Here a message is written under a temporary name and renamed into place, and a
consumer claims it by ``os.rename`` within the spool, which exactly one process wins.
A rejected message (``requeue=False``) goes to ``<queue>.dead`` as RabbitMQ's
dead-letter exchange would route it.

A claimed message stays on disk until it is acknowledged, as RabbitMQ keeps an unacked
one: it is claimed into ``<claimed>/<pid>.<start time>/`` of its consumer process, removed
on ack, reject or requeue, and any consumer puts the messages of a claimed folder whose
process is gone (``kill -9``) back into their queue, at their old place. The start time
tells a dead process from a new one that reuses its pid.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic

from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.transport.filesystem import LOCK_EX, LOCK_SH, exchange_queue_t, lock, unlock
from kombu.utils.json import dumps, loads


#: how often a consumer looks for messages claimed by consumers that died
RESTORE_EVERY_S = 1.0


def _started(pid: int) -> str | None:
    """When process ``pid`` started (``/proc``; ``"0"`` where there is none), ``None`` if
    there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if os.path.isdir("/proc"):
            return None
    except OSError:
        return "0"
    else:
        return stat.rpartition(")")[2].split()[19]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "0"


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_out, self.data_folder_in, self.processed_folder):
            os.makedirs(folder, exist_ok=True)
        os.makedirs(self.control_folder, exist_ok=True)
        self._claims: dict[str, str] = {}  # delivery tag -> claimed file
        self._no_ack: set[str] = set()  # queues consumed without acknowledgements
        self._getting_no_ack = False
        self._restored_at = None
        self._restore_orphans()

    @property
    def _own_claims(self) -> str:
        pid = os.getpid()
        return os.path.join(self.processed_folder, f"{pid}.{_started(pid)}")

    def _restore_orphans(self) -> None:
        """Put the messages claimed by consumer processes that died back in their queue."""
        self._restored_at = monotonic()
        for folder in os.listdir(self.processed_folder):
            pid, _, started = folder.partition(".")
            if not pid.isdigit() or not started or _started(int(pid)) == started:
                continue
            path = os.path.join(self.processed_folder, folder)
            for name in os.listdir(path):
                try:
                    os.rename(os.path.join(path, name), os.path.join(self.data_folder_in, name))
                except FileNotFoundError:
                    pass  # another consumer restored it first
            try:
                os.rmdir(path)
            except OSError:
                pass

    def _forget(self, delivery_tag) -> None:
        """The message is settled (acked, rejected or requeued): its claim goes."""
        claimed = self._claims.pop(delivery_tag, None)
        if claimed is not None:
            try:
                os.remove(claimed)
            except FileNotFoundError:
                pass

    def _put(self, queue, payload, **kwargs):
        name = f"{int(monotonic() * 1_000_000):020d}_{uuid.uuid4().hex}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.rename(partial, final)
        except OSError as exc:
            raise ChannelError(f"cannot add message to spool {final!r}") from exc

    def _get(self, queue):
        if monotonic() - self._restored_at > RESTORE_EVERY_S:
            self._restore_orphans()
        wanted = f".{queue}.msg"
        own = self._own_claims
        for name in sorted(os.listdir(self.data_folder_in)):
            if not name.endswith(wanted) or name.partition(".")[2] != wanted[1:]:
                continue
            os.makedirs(own, exist_ok=True)
            claimed = os.path.join(own, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            try:
                with open(claimed, "rb") as f:
                    message = loads(f.read())
            except OSError as exc:
                raise ChannelError(f"cannot read claimed message {claimed!r}") from exc
            tag = message.get("properties", {}).get("delivery_tag")
            if tag is None or queue in self._no_ack or self._getting_no_ack:
                os.remove(claimed)  # nothing will acknowledge it: settled on delivery
            else:
                self._claims[tag] = claimed
            return message
        raise Empty()

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        (self._no_ack.add if no_ack else self._no_ack.discard)(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        self._getting_no_ack = no_ack
        try:
            return super().basic_get(queue, no_ack=no_ack, **kwargs)
        finally:
            self._getting_no_ack = False

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)

    def _restore(self, message):
        super()._restore(message)
        self._forget(message.delivery_tag)

    def _size(self, queue):
        wanted = f"{queue}.msg"
        return sum(1 for n in os.listdir(self.data_folder_in) if n.partition(".")[2] == wanted)

    def get_table(self, exchange):
        try:
            with open(self._exchange_file(exchange), "rb") as f:
                lock(f, LOCK_SH)
                try:
                    raw = f.read()
                finally:
                    unlock(f)
        except FileNotFoundError:
            return []
        return [exchange_queue_t(*q) for q in loads(raw)] if raw else []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        # Create-or-open, then read and rewrite under one exclusive lock: the stock
        # transport truncates a file another process may have just written.
        binding = exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self.control_folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._exchange_file(exchange), os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(fd, "r+b", buffering=0) as f:
            lock(f, LOCK_EX)
            try:
                raw = f.read()
                table = [exchange_queue_t(*q) for q in loads(raw)] if raw else []
                if binding not in table:
                    table.insert(0, binding)
                    f.seek(0)
                    f.truncate()
                    f.write(dumps(table).encode())
            finally:
                unlock(f)

    def basic_reject(self, delivery_tag, requeue=False):
        if not requeue:
            message = self.qos.get(delivery_tag)
            queue = message.delivery_info.get("routing_key") or "unrouted"
            self._put(f"{queue}.dead", message._raw)
        super().basic_reject(delivery_tag, requeue=requeue)
        self._forget(delivery_tag)

    @property
    def processed_folder(self):
        return self.transport_options.get("processed_folder", "claimed")


class Transport(filesystem.Transport):
    """One broker state per spool: declarations cached for one spool (one control
    folder) must not stop another spool in the same process from writing its own."""

    Channel = Channel
    driver_type = "spool"
    driver_name = "spool"
    _states: dict[str, virtual.BrokerState] = {}

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        spool = os.path.abspath(client.transport_options.get("control_folder", "control"))
        self.state = self._states.setdefault(spool, virtual.BrokerState())


TRANSPORT_ALIASES.setdefault("spool", "workers.spool:Transport")
