"""One producer of a burst: ``python -m tests.produce TRACE START COUNT THREADS`` sends record_task START..+COUNT.

The queue is CELERY_QUEUE's, as for any process of the project.
"""

from __future__ import annotations

import sys
import threading

from tests.tasks import record_task


def produce(trace: str, start: int, count: int, threads: int) -> None:
    """Send ``count`` tasks from ``threads`` threads at once, each its own slice of the numbers."""
    step = -(-count // threads)
    slices = [range(n, min(n + step, start + count)) for n in range(start, start + count, step)]
    barrier = threading.Barrier(len(slices))

    def send(numbers: range) -> None:
        barrier.wait()
        for n in numbers:
            record_task.delay(trace, n)

    workers = [threading.Thread(target=send, args=(numbers,)) for numbers in slices]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


if __name__ == "__main__":
    produce(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
