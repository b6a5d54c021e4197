"""The per-partner token buckets, on a clock the test moves."""

from __future__ import annotations

import pytest

from gateway.api.rate_limits import Allowance, RateLimiter, parse_overrides
from gateway.errors import ConfigurationError, RateLimitedError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admitted(limiter: RateLimiter, partner: str, calls: int) -> int:
    passed = 0
    for _ in range(calls):
        try:
            limiter.take(partner)
            passed += 1
        except RateLimitedError:
            pass
    return passed


def test_a_burst_passes_then_calls_pass_at_the_allowed_rate():
    clock = Clock()
    limiter = RateLimiter(Allowance(per_minute=60, burst=5), clock=clock)
    assert admitted(limiter, "KR", 10) == 5
    clock.now += 3.0  # one call a second comes back
    assert admitted(limiter, "KR", 10) == 3
    clock.now += 3600  # a quiet hour refills the burst, never more
    assert admitted(limiter, "KR", 10) == 5


def test_the_refusal_says_when_a_call_will_pass():
    clock = Clock()
    limiter = RateLimiter(Allowance(per_minute=6, burst=1), clock=clock)
    limiter.take("KR")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("KR")
    assert refused.value.retry_after == 10  # six a minute: one every ten seconds
    clock.now += 10
    limiter.take("KR")


def test_partners_have_buckets_of_their_own():
    limiter = RateLimiter(Allowance(per_minute=60, burst=2), clock=Clock())
    assert admitted(limiter, "KR", 5) == 2
    assert admitted(limiter, "US", 5) == 2


def test_an_override_gives_one_partner_another_allowance():
    default = Allowance(per_minute=60, burst=2)
    limiter = RateLimiter(default, parse_overrides("KR=600:20, US=0", default), clock=Clock())
    assert admitted(limiter, "KR", 50) == 20
    assert admitted(limiter, "US", 500) == 500  # 0: unlimited
    assert admitted(limiter, "TH", 50) == 2


def test_each_worker_holds_its_share_of_the_allowance():
    clock = Clock()
    limiter = RateLimiter(Allowance(per_minute=120, burst=10), share=2, clock=clock)
    assert admitted(limiter, "KR", 50) == 5
    clock.now += 3  # 120 a minute over two workers: one a second here
    assert admitted(limiter, "KR", 50) == 3


@pytest.mark.parametrize("setting", ["KR", "KR=fast", "=60", "KR=60:x", "KR=-1"])
def test_malformed_overrides_are_refused(setting):
    with pytest.raises(ConfigurationError):
        parse_overrides(setting, Allowance(60, 10))


def test_buckets_of_caller_chosen_keys_are_bounded_and_full_ones_forgotten():
    clock = Clock()
    limiter = RateLimiter(Allowance(per_minute=60, burst=2), max_keys=3, clock=clock)
    for name in ("a", "b", "c"):
        assert limiter.admits(name)
    # every bucket still refilling: a new name gets no fresh allowance of its own
    assert not limiter.admits("d")
    assert limiter.admits("a")  # the names held keep theirs
    clock.now += 2.0  # a second a token: every bucket is full again, and forgotten
    assert admitted(limiter, "d", 5) == 2
    assert admitted(limiter, "e", 5) == 2


def test_a_flood_of_new_keys_scans_the_buckets_at_most_once_a_second():
    clock = Clock()
    limiter = RateLimiter(Allowance(per_minute=60, burst=1), max_keys=1, clock=clock)
    assert limiter.admits("a")  # a token a second: "a" is full again one second later
    clock.now += 0.5
    assert not limiter.admits("b")  # scanned: "a" is still refilling
    clock.now += 0.7  # "a" is full now, but the last scan was 0.7 s ago: not scanned again
    assert not limiter.admits("b")
    clock.now += 0.3
    assert limiter.admits("b")  # a second after the last scan: "a" forgotten
