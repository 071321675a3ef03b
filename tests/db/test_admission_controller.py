"""The admission controller on a fake clock: when it refuses, whom, and when it stops."""

from __future__ import annotations

import math

import pytest

from fraiseql.db.admission import AdmissionController


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def controller(clock: Clock, **options: float) -> AdmissionController:
    return AdmissionController(0.02, 0.1, clock=clock, **options)


def served(admission: AdmissionController, clock: Clock, waited: float) -> None:
    """One request that waited ``waited`` seconds for its connection, ending now."""
    started = admission.enter()
    admission.leave(started - waited)


def standing_queue(
    admission: AdmissionController, clock: Clock, seconds: float, waited: float, queued: int
) -> None:
    """``queued`` requests waiting throughout; every 10 ms one gets a connection after
    ``waited`` seconds and another joins the queue."""
    admission.waiting += queued
    for _ in range(round(seconds / 0.01)):
        clock.now += 0.01
        served(admission, clock, waited)
    admission.waiting -= queued


def test_short_waits_never_refuse() -> None:
    clock = Clock()
    admission = controller(clock)
    for _ in range(500):  # 5 s of a busy pool whose requests wait under the target
        standing_queue(admission, clock, 0.01, 0.019, queued=5)
        assert admission.admit()
    assert not admission.overloaded and admission.refused == 0
    assert admission.overloaded_intervals == 0
    assert admission.queue_delay == pytest.approx(0.019)


def test_long_waits_in_a_queue_that_drains_are_not_overload() -> None:
    clock = Clock()
    admission = controller(clock)
    for _ in range(20):  # every 50 ms a burst: 0.2 s waits, then the last one empties the queue
        standing_queue(admission, clock, 0.04, 0.2, queued=3)
        clock.now += 0.01
        served(admission, clock, 0.2)  # nobody else waits now
        admission.waiting += 10  # a crowd arrives at once, but is not refused: no standing queue
        assert admission.admit()
        admission.waiting -= 10
    assert not admission.overloaded and admission.overloaded_intervals == 0


def test_a_lone_slow_acquisition_is_not_a_queue() -> None:
    clock = Clock()
    admission = controller(clock)
    for _ in range(5):
        clock.now += 0.3
        served(admission, clock, 0.5)  # a connection being opened, say; nobody else waiting
    assert not admission.overloaded and admission.overloaded_intervals == 0


def test_a_standing_queue_refuses_what_would_wait_past_the_target() -> None:
    clock = Clock()
    admission = controller(clock)
    standing_queue(admission, clock, 0.09, 0.05, queued=10)
    admission.waiting += 10
    assert admission.admit()  # not yet a whole interval
    admission.waiting -= 10
    standing_queue(admission, clock, 0.05, 0.05, queued=10)
    assert admission.overloaded and admission.overloaded_intervals == 1
    assert admission.rate == pytest.approx(100, rel=0.1)  # one connection every 10 ms
    # At 100 connections a second, two waiting is 20 ms: a third would wait past the target.
    admission.waiting = 3
    assert [admission.admit() for _ in range(4)] == [True, False, True, False]
    assert admission.refused == 2
    admission.waiting = 1  # a request that would wait 10 ms is admitted, overloaded or not
    assert all(admission.admit() for _ in range(10))
    assert admission.refused == 2
    admission.waiting = 0


def test_at_most_the_share_is_refused_even_with_a_long_queue() -> None:
    clock = Clock()
    admission = controller(clock)
    standing_queue(admission, clock, 0.25, 0.3, queued=50)
    assert admission.overloaded
    admission.waiting = 50
    answers = [admission.admit() for _ in range(1000)]
    assert answers.count(False) == 500  # one refused per admitted one
    assert answers[:4] == [True, False, True, False]


def test_the_state_outlasts_the_overload_by_the_hold_and_then_costs_nothing() -> None:
    clock = Clock()
    admission = controller(clock)
    standing_queue(admission, clock, 0.3, 0.1, queued=20)
    assert admission.overloaded
    for _ in range(8):  # 0.8 s of short waits: still on guard (the hold is 1 s)
        standing_queue(admission, clock, 0.1, 0.001, queued=0)
    assert admission.overloaded
    admission.waiting = 1  # but only what would wait past the target is refused
    assert admission.admit()
    admission.waiting = 0
    for _ in range(4):
        standing_queue(admission, clock, 0.1, 0.001, queued=0)
    assert not admission.overloaded
    refused = admission.refused
    admission.waiting = 1000  # whatever the queue now, no check until it stands again
    assert all(admission.admit() for _ in range(100))
    assert admission.refused == refused
    admission.waiting = 0


def test_a_quiet_spell_ends_the_overload() -> None:
    clock = Clock()
    admission = controller(clock)
    standing_queue(admission, clock, 0.5, 0.3, queued=20)
    assert admission.overloaded
    clock.now += 3600.0  # nobody came for an hour
    assert admission.admit()
    assert not admission.overloaded


def test_requests_stuck_for_a_whole_interval_are_overload() -> None:
    clock = Clock()
    admission = controller(clock)
    first = admission.enter()
    for _ in range(5):
        admission.enter()
    clock.now += 1.0  # the database stopped answering: nobody got a connection
    assert admission.admit()  # nothing was decided yet: the check stays one test
    admission.leave(first)  # the first gives up (acquire timeout); five still wait
    assert admission.overloaded
    assert admission.rate == 0.0
    # With nothing handed out any wait is too long: refused, within the share.
    assert [admission.admit() for _ in range(4)] == [True, False, True, False]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": 0}, "target"),
        ({"target": -0.01}, "target"),
        ({"interval": math.nan}, "interval"),
        ({"interval": math.inf}, "interval"),
        ({"hold": -1}, "hold"),
        ({"max_refusal": 0}, "max_refusal"),
        ({"max_refusal": 1}, "max_refusal"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdmissionController(**options)  # type: ignore[arg-type]
