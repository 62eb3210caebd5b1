"""``spool://``: the server-less broker of the embedded default.

kombu's ``filesystem://`` transport is sound in one process but not across several:
it creates a message file before writing it, so another process can read it empty
(kombu issue 1551), and it claims a message with ``shutil.move`` into the temp
directory, which copies across file systems and can hand one message to two workers.
Here a message is written under a temporary name and renamed into place, and a
consumer claims it by ``os.rename`` within the spool, which exactly one process wins.
A rejected message (``requeue=False``) goes to ``<queue>.dead`` as RabbitMQ's
dead-letter exchange would route it.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic

from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.transport.filesystem import LOCK_EX, LOCK_SH, exchange_queue_t, lock, unlock
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_out, self.data_folder_in, self.processed_folder):
            os.makedirs(folder, exist_ok=True)
        os.makedirs(self.control_folder, exist_ok=True)

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
        wanted = f".{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if not name.endswith(wanted) or name.partition(".")[2] != wanted[1:]:
                continue
            claimed = os.path.join(self.processed_folder, f"{os.getpid()}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            try:
                with open(claimed, "rb") as f:
                    payload = f.read()
                os.remove(claimed)
            except OSError as exc:
                raise ChannelError(f"cannot read claimed message {claimed!r}") from exc
            return loads(payload)
        raise Empty()

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
