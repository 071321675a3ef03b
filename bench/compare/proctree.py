"""The CPU time of a server's whole process session: its supervisor and every worker.

A server started with ``start_new_session=True`` leads its own session, and every process it
starts (uvicorn's workers, Node's cluster workers, a restarted worker with a new pid) stays in
it. Each reading walks ``/proc`` afresh, so workers that came and went between two readings are
found. A process's own time is ``utime + stime``; ``cutime + cstime`` adds the children it has
already reaped, so a worker that exited keeps counting in its parent's figure and a sum over
the session never goes back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

PROC = Path("/proc")


class Stat(NamedTuple):
    """The fields of ``/proc/<pid>/stat`` the readings need (CPU times in seconds)."""

    pid: int
    ppid: int
    session: int
    own_s: float
    reaped_children_s: float


def read_stat(pid: int) -> Stat | None:
    """``pid``'s stat, ``None`` when it is gone or unreadable."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = text.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return Stat(
        pid=pid,
        ppid=int(fields[1]),
        session=int(fields[3]),
        own_s=(utime + stime) / ticks,
        reaped_children_s=(cutime + cstime) / ticks,
    )


def session_stats(leader: int) -> list[Stat]:
    """Every process of ``leader``'s session, the leader first; empty when the leader is gone."""
    head = read_stat(leader)
    if head is None:
        return []
    if head.session != leader:
        raise ValueError(f"process {leader} does not lead its session (start it in a new one)")
    found = [head]
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == leader:
            continue
        stat = read_stat(int(entry.name))
        if stat is not None and stat.session == leader:
            found.append(stat)
    return found


def cpu_by_process(leader: int) -> dict[int, float]:
    """CPU seconds so far of each process of ``leader``'s session, by pid (reaped ones included)."""
    return {s.pid: s.own_s + s.reaped_children_s for s in session_stats(leader)}
