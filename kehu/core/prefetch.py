"""Work one step ahead in a thread: while the caller waits for the database (an import batch's
COPY), the next items are computed (the next batch's cells read and validated).

The producer must not touch the database: a thread has its own connection, outside the
caller's transaction.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")

_DONE = object()


def ahead(iterable: Iterable[T], *, depth: int = 1) -> Generator[T, None, None]:
    """The items of ``iterable``, produced in a thread up to ``depth`` items before they are
    asked for. An exception of the producer is raised here, at the item it would have been;
    closing this iterator early stops the producer (after its current item) and waits for it."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in iterable:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer
            put((_DONE, exc))
            return
        finally:
            connections.close_all()  # this thread's, should the producer have opened one
        put((_DONE, None))

    thread = threading.Thread(target=produce, name="kehu-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
