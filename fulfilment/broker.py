"""The embedded Celery broker: kombu's filesystem transport, made safe for several processes.

kombu's own writer creates a message file under its final name and then writes into it, so a worker
listing the folder meanwhile reads it empty or half-written and dies (celery/kombu#1551). Here:

- a message is written under a name readers ignore, fsynced, and renamed into place: a reader sees
  all of it or nothing;
- a worker takes a message by renaming it into the processed folder (of two takers one wins) and
  deletes it when the task is acknowledged, so ``acks_late`` holds as on Redis: what a killed worker
  had taken goes back to the queue as soon as another worker sees its taker is dead, or after the
  visibility timeout;
- a file that still does not parse (a foreign writer's, still growing) is put back and retried; one
  that stays unreadable for ``MALFORMED_GRACE`` seconds is moved to the malformed folder and logged.
  Nothing is dropped silently and nothing stops the worker.

One machine only: a taker is identified by its process id.

Why not kombu's SQLAlchemy transport on SQLite: it needs a new dependency, marks a message delivered
when it is fetched (a killed worker's task is lost, acks_late means nothing) and keeps every row; with
5 producer processes x 4 threads and one consumer, 74 of 5000 publishes failed with "database is
locked" and the consumer had 2129 after 120 s (kombu 5.7, SQLAlchemy 2.1, measured 2026-12-01).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger("fulfilment.broker")

PART_SUFFIX = ".part"  # "<stamp>_<uuid>.<queue>.msg.part" never matches a reader's "<queue>.msg"
MALFORMED_GRACE = 30.0  # seconds a foreign writer gets to finish a file
RECOVER_EVERY = 10.0  # seconds between looks for messages whose taker is gone
PART_MAX_AGE = 3600.0  # a ".part" this old belongs to a producer killed mid-write: its send never returned
TAKEN_SEP = "~"  # processed/<pid>~<message file name>

# Message files this process has taken and not yet acknowledged, across its channels.
_taken_here: set[str] = set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Channel(filesystem.Channel):
    """Atomic writes, take-by-rename, delete on ack, restore of what dead takers held."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: dict[str, str] = {}  # delivery tag -> taken file
        self._no_ack_queues: set[str] = set()
        self._listing: dict[str, list[str]] = {}
        self._next_recovery = 0.0

    # --- options ----------------------------------------------------------------------------------
    @property
    def visibility_timeout(self) -> float:
        return float(self.transport_options.get("visibility_timeout", 600))

    @property
    def malformed_folder(self) -> str:
        return self.transport_options.get("malformed_folder", "malformed")

    # --- publish ----------------------------------------------------------------------------------
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        part = final + PART_SUFFIX
        try:
            with open(part, "xb") as f:
                f.write(dumps(payload).encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(part, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    # --- consume ----------------------------------------------------------------------------------
    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:  # broadcast and reply queues: nobody acknowledges, so nothing is kept
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_get(queue, no_ack, **kwargs)

    def _get(self, queue: str) -> Any:
        if time.monotonic() >= self._next_recovery:
            self._next_recovery = time.monotonic() + RECOVER_EVERY
            self.recover()
        listing = self._listing.get(queue)
        if not listing:
            wanted = f"{queue}.msg"
            listing = sorted((n for n in os.listdir(self.data_folder_in) if n.partition(".")[2] == wanted),
                             reverse=True)
            self._listing[queue] = listing
        while listing:
            message = self._take(listing.pop(), queue)
            if message is not None:
                return message
        raise Empty()

    def _take(self, name: str, queue: str) -> Any:
        source = os.path.join(self.data_folder_in, name)
        taken = os.path.join(self.processed_folder, f"{os.getpid()}{TAKEN_SEP}{name}")
        _taken_here.add(taken)  # before the rename, so that recover() never sees it unclaimed
        try:
            os.rename(source, taken)
        except FileNotFoundError:
            _taken_here.discard(taken)
            return None  # another worker took it
        try:
            written_at = os.stat(taken).st_mtime
            with open(taken, "rb") as f:
                raw = f.read()
            message = loads(raw.decode())
            tag = message["properties"]["delivery_tag"]
        except (ValueError, KeyError, TypeError):
            self._set_aside(taken, source, name, written_at)
            _taken_here.discard(taken)
            return None
        except OSError as exc:
            raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
        if queue in self._no_ack_queues:
            os.unlink(taken)
            _taken_here.discard(taken)
            return message
        os.utime(taken)  # the visibility timeout counts from now
        self._in_flight[tag] = taken
        return message

    def _set_aside(self, taken: str, source: str, name: str, written_at: float) -> None:
        age = time.time() - written_at
        if age < MALFORMED_GRACE:
            os.rename(taken, source)  # its writer may still be at it: try again later
            return
        target = os.path.join(self.malformed_folder, name)
        os.replace(taken, target)
        log.error("broker: message file %s still does not parse %.0f s after it was written; malformed, "
                  "kept in %s", name, age, target)

    # --- acknowledge ------------------------------------------------------------------------------
    def _forget(self, delivery_tag: str) -> None:
        taken = self._in_flight.pop(delivery_tag, None)
        if taken:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(taken)
            _taken_here.discard(taken)  # after the unlink, so that recover() never restores it

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)
        self.connection.settled.set()

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)  # requeue goes through _restore
        self._forget(delivery_tag)
        self.connection.settled.set()

    def _restore(self, message: Any) -> None:
        """Put an unacknowledged message back (shutdown, reject with requeue), then drop the taken copy."""
        super()._restore(message)
        self._forget(message.delivery_tag)

    # --- recovery ---------------------------------------------------------------------------------
    def recover(self) -> int:
        """Return to the queue what dead takers held, and what was held past the visibility timeout."""
        now = time.time()
        restored = 0
        for entry in os.scandir(self.processed_folder):
            pid, sep, name = entry.name.partition(TAKEN_SEP)
            if not sep or not pid.isdigit():
                continue
            try:
                held_for = now - entry.stat().st_mtime
            except FileNotFoundError:
                continue
            mine = int(pid) == os.getpid()
            if mine and entry.path in _taken_here:
                continue  # still running here
            if not mine and _alive(int(pid)) and held_for < self.visibility_timeout:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.rename(entry.path, os.path.join(self.data_folder_in, name))
                restored += 1
                log.warning("broker: restored %s, taken by process %s %.0f s ago and not acknowledged",
                            name, pid, held_for)
        for entry in os.scandir(self.data_folder_out):
            if entry.name.endswith(PART_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    if now - entry.stat().st_mtime > PART_MAX_AGE:
                        os.unlink(entry.path)
        return restored


class Transport(filesystem.Transport):
    """``CELERY_BROKER_TRANSPORT = "fulfilment.broker:Transport"`` with ``filesystem://``."""

    Channel = Channel
    polling_interval = 0.25  # how soon an idle worker sees a new message (kombu: 1 s)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settled = threading.Event()  # set on every ack or reject, from whichever thread

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        """Deliver one message, waiting for one to come or for a task to finish.

        kombu's loop sleeps the whole polling interval whenever no channel may take a message, also
        when the only reason is a full prefetch: with ``acks_late`` and prefetch 1 a worker then ran
        two tasks a second. An acknowledgement ends the wait here.
        """
        started = time.monotonic()
        while True:
            self.settled.clear()
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                left = None if timeout is None else timeout - (time.monotonic() - started)
                if left is not None and left <= 0:
                    raise TimeoutError from None  # socket.timeout, what kombu's callers expect
                self.settled.wait(self.polling_interval if left is None else min(self.polling_interval, left))

