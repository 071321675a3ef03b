"""The local tally of a shared backend: replacements, removals and expiry, on a fake clock."""

from __future__ import annotations

from fraiseql.cache.tally import ExpiringTally


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_are_forgotten_once_expired() -> None:
    clock = Clock()
    tally = ExpiringTally(clock)
    tally.add(10, 1000.5)
    tally.add(20, 1030.0)
    assert tally.snapshot() == {"entries": 2, "bytes": 30}
    clock.now = 1001.0
    assert tally.snapshot() == {"entries": 1, "bytes": 20}
    clock.now = 1030.0
    assert tally.snapshot() == {"entries": 0, "bytes": 0}
    assert tally._buckets == {} and tally._order == []  # memory does not grow with time


def test_removal_finds_the_entry_despite_a_slightly_different_expiry() -> None:
    clock = Clock()
    tally = ExpiringTally(clock)
    tally.add(10, 1010.999)
    tally.remove(10, 1011.002)  # the server's view, a few milliseconds later: next bucket
    assert tally.snapshot() == {"entries": 0, "bytes": 0}
    clock.now = 1020.0
    assert tally.snapshot() == {"entries": 0, "bytes": 0}  # nothing subtracted twice


def test_removing_what_another_process_stored_changes_nothing() -> None:
    tally = ExpiringTally(Clock())
    tally.add(10, 1010.0)
    tally.remove(99, 1500.0)
    assert tally.snapshot() == {"entries": 1, "bytes": 10}


def test_reset_counts_nothing() -> None:
    tally = ExpiringTally(Clock())
    tally.add(10, 1010.0)
    tally.reset()
    tally.remove(10, 1010.0)
    assert tally.snapshot() == {"entries": 0, "bytes": 0}
