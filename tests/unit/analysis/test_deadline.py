"""The query watchdog: one thread interrupts exactly the queries whose time is up."""

from __future__ import annotations

import threading

from dpghub.analysis.sandbox import Deadline


class FakeConnection:
    def __init__(self) -> None:
        self.interrupted = threading.Event()

    def interrupt(self) -> None:
        self.interrupted.set()


def test_only_overdue_queries_are_interrupted() -> None:
    slow, quick, later = FakeConnection(), FakeConnection(), FakeConnection()
    with Deadline(later, 30.0) as long_one:          # due long after the others
        with Deadline(quick, 0.05) as finished:
            pass                                      # the query ended in time
        with Deadline(slow, 0.05) as overdue:
            assert slow.interrupted.wait(5.0)         # interrupted once its time was up
        assert overdue.fired and not finished.fired
        assert not quick.interrupted.is_set() and not later.interrupted.is_set()
    assert not long_one.fired


def test_an_earlier_deadline_is_not_kept_waiting_by_a_later_one() -> None:
    first, second = FakeConnection(), FakeConnection()
    with Deadline(first, 60.0), Deadline(second, 0.05) as short:
        assert second.interrupted.wait(5.0) and short.fired
        assert not first.interrupted.is_set()
