"""``ahead``: the items in order, the producer's error where it happened, an early stop that
leaves no thread behind."""

import threading

import pytest

from kehu.core.prefetch import ahead


def test_items_come_in_order_and_the_producers_error_at_its_place():
    assert list(ahead(range(50))) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("第3批读不出")

    got = []
    with pytest.raises(ValueError, match="第3批"):
        for item in ahead(failing()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_producer():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    items = ahead(endless(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert not any(t.name == "kehu-ahead" for t in threading.enumerate())
    assert len(produced) <= 3 + 2 + 1  # what was asked, the queue, the one in hand
