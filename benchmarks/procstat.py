"""What the benchmarks read about their own process: resident and peak memory, from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` field (VmRSS, VmHWM) in KiB (Linux), else 0."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat``), None if it is gone.

    The benchmarks read it for the PostgreSQL server processes that serve their own connections
    (``pg_backend_pid()``): on one machine the server's CPU is part of what a run costs."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


class ServerCpu:
    """The CPU time of the PostgreSQL server processes behind every connection this process opens.

    ``ServerCpu.install()`` hooks every SQLAlchemy engine's "connect" and asks each new connection
    for its server pid; ``total()`` sums their CPU seconds (a process whose connection closed is
    gone from /proc: ``lost`` counts them, so a figure that misses some says so)."""

    pids: list[int] = []
    last: dict[int, float] = {}

    @classmethod
    def install(cls) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            if type(dbapi_conn).__module__.startswith("psycopg"):
                cls.pids.append(int(dbapi_conn.info.backend_pid))

    @classmethod
    def total(cls) -> tuple[float, int]:
        """(CPU seconds of every server process seen so far, how many of them are gone)."""
        total, lost = 0.0, 0
        for pid in cls.pids:
            cpu = cpu_seconds(pid)
            if cpu is None:
                lost += 1
                cpu = cls.last.get(pid, 0.0)
            cls.last[pid] = cpu
            total += cpu
        return total, lost
