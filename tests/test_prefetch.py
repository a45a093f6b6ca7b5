"""alpr.prefetch: the work on the next item overlaps the caller's handling of the current one."""

import threading

import pytest

from alpr.prefetch import prefetched


def test_items_come_in_order_with_their_results():
    assert [(item, job.result()) for item, job in prefetched(range(5), lambda i: i * i)] == [(i, i * i) for i in range(5)]
    assert list(prefetched([], lambda i: i)) == []


def test_the_next_item_is_worked_on_while_the_caller_handles_this_one():
    started = {i: threading.Event() for i in range(3)}

    def work(i):
        started[i].set()
        return i

    for item, job in prefetched(range(3), work):
        job.result()
        if item < 2:  # the caller holds item; work(item + 1) must start without the caller's help
            assert started[item + 1].wait(timeout=10), f"work on item {item + 1} did not start ahead"


def test_a_failing_item_raises_at_its_result_and_the_others_go_on():
    def work(i):
        if i == 1:
            raise ValueError("bad item 1")
        return i

    outcomes = []
    for item, job in prefetched(range(3), work):
        try:
            outcomes.append(job.result())
        except ValueError as err:
            outcomes.append(str(err))
    assert outcomes == [0, "bad item 1", 2]


def _recorded(n: int, pulled: list):
    """range(n), noting in ``pulled`` each item as it is asked for."""
    for i in range(n):
        pulled.append(i)
        yield i


def test_at_most_two_items_are_in_flight():
    pulled = []
    for item, job in prefetched(_recorded(6, pulled), lambda i: i):
        job.result()
        assert max(pulled) <= item + 1


def test_leaving_early_stops_pulling_items():
    pulled = []
    for item, _ in prefetched(_recorded(100, pulled), lambda i: i):
        if item == 2:
            break
    assert max(pulled) <= 3


@pytest.mark.parametrize("n", [1, 2])
def test_short_streams(n):
    assert [job.result() for _, job in prefetched(range(n), str)] == [str(i) for i in range(n)]
