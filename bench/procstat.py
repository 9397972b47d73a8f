"""What the benchmarks read of a process: its CPU time."""

from __future__ import annotations


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children, the exited ones (reaped) included."""
    import psutil

    proc = psutil.Process(pid)
    t = proc.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in proc.children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += c.user + c.system
    return total
