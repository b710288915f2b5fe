"""Token-bucket rate limits over a controllable clock."""

from __future__ import annotations

from tepat.domain.throttle import Limit, Throttle, take_all


def test_burst_then_refill() -> None:
    t = Throttle(Limit.per(3, 60.0))
    assert [t.take("a", 0.0).allowed for _ in range(4)] == [True, True, True, False]
    refused = t.take("a", 1.0)
    assert not refused.allowed and 0 < refused.retry_after <= 20
    assert t.take("a", 20.5).allowed  # one token back after 20 s
    assert not t.take("a", 20.6).allowed
    assert t.take("b", 0.0).allowed  # other keys are independent


def test_full_bucket_does_not_overflow() -> None:
    t = Throttle(Limit.per(2, 10.0))
    t.take("a", 0.0)
    assert [t.take("a", 10_000.0).allowed for _ in range(3)] == [True, True, False]


def test_take_all_needs_every_key() -> None:
    clients, niks = Throttle(Limit.per(10, 60.0)), Throttle(Limit.per(2, 3600.0))
    assert take_all([(clients, "c1"), (niks, "n")], 0.0).allowed
    assert take_all([(clients, "c2"), (niks, "n")], 0.0).allowed
    decision = take_all([(clients, "c3"), (niks, "n")], 0.0)  # a third client, same NIK
    assert not decision.allowed and decision.retry_after > 60


def test_memory_is_bounded() -> None:
    t = Throttle(Limit.per(1, 60.0), max_keys=100)
    for i in range(1000):
        t.take(f"k{i}", float(i))
    assert len(t) <= 100
