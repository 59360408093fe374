"""The event bus: numbered events, bounded queues, resync, reconnects, shutdown."""

from __future__ import annotations

import threading

from station.core.events import RESYNC, EventBus


def test_events_are_numbered_and_reach_every_subscriber() -> None:
    bus = EventBus()
    first, second = bus.subscribe(), bus.subscribe()
    bus.publish("page", {"capture_id": "c1"})
    bus.publish("book", {"book": "KS-2007-01"})
    for subscription in (first, second):
        a, b = subscription.get(1), subscription.get(1)
        assert a is not None and b is not None
        assert (a.id, a.kind, a.data) == (1, "page", {"capture_id": "c1"})
        assert b.id == 2 and b.kind == "book"
        assert subscription.get(0) is None
    assert bus.subscribers() == 2
    first.close()
    assert bus.subscribers() == 1
    second.close()


def test_a_slow_subscriber_gets_a_resync_not_a_stall() -> None:
    bus = EventBus(queue_size=4)
    slow, fast = bus.subscribe(), bus.subscribe()
    for n in range(4):
        bus.publish("entry", {"n": n})
        event = fast.get(1)
        assert event is not None and event.data == {"n": n}
    bus.publish("entry", {"n": 4})  # the fifth overflows the slow queue
    resync = slow.get(1)
    assert resync is not None and resync.kind == RESYNC and resync.data == {"dropped": 4}
    newest = slow.get(1)
    assert newest is not None and newest.data == {"n": 4} and newest.id == 5
    assert slow.dropped == 4
    assert fast.get(1) is not None and fast.dropped == 0


def test_a_reconnect_gets_what_it_missed_or_a_resync() -> None:
    bus = EventBus(queue_size=8, history=3)
    for n in range(5):
        bus.publish("entry", {"n": n})
    caught_up = bus.subscribe(last_id=3)
    assert [caught_up.get(1).id for _ in range(2)] == [4, 5]  # type: ignore[union-attr]
    too_late = bus.subscribe(last_id=1)  # events 2 and 3 are no longer held
    event = too_late.get(1)
    assert event is not None and event.kind == RESYNC
    assert bus.subscribe(last_id=5).get(0) is None


def test_close_wakes_a_waiting_reader_and_later_subscriptions_start_closed() -> None:
    bus = EventBus()
    subscription = bus.subscribe()
    results: list[object] = []
    reader = threading.Thread(target=lambda: results.append(subscription.get(30)))
    reader.start()
    bus.close()
    reader.join(5)
    assert not reader.is_alive() and results == [None]
    assert subscription.closed
    late = bus.subscribe()
    assert late.closed and late.get(0) is None


def test_events_render_as_server_sent_events() -> None:
    event = EventBus().publish("capture", {"phase": "started", "vi": "Đang chụp"})
    assert event.to_sse() == (
        'id: 1\nevent: capture\ndata: {"phase":"started","vi":"Đang chụp"}\n\n'
    )
    assert event.to_dict()["kind"] == "capture"


def test_publishing_from_many_threads_keeps_ids_unique_and_ordered() -> None:
    bus = EventBus(queue_size=1000)
    subscription = bus.subscribe()
    threads = [
        threading.Thread(target=lambda: [bus.publish("x", {}) for _ in range(100)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = []
    while (event := subscription.get(0)) is not None:
        ids.append(event.id)
    assert ids == list(range(1, 401)) and bus.last_id == 400
