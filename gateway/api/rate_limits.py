"""Rate limits: a token bucket per authenticated partner (and per account signing in to the pages,
and per source of refusals recorded one by one in the audit log).

A partner may send ``per_minute`` calls a minute on average, and up to ``burst`` at once after
a quiet spell. The buckets live in the worker process: with N workers each holds a 1/N share of
every allowance, so the gateway as a whole admits the configured rate (up to rounding, and as
long as the load balancer spreads a partner's calls; a partner whose calls all reach one worker
gets that worker's share). A refused call is told in ``Retry-After`` when one would pass.

Counted after the assertion verified: an unverified ``iss`` could drain another partner's bucket.
Where the keys come from the caller (account names, addresses), ``max_keys`` bounds the buckets
held: a bucket refilled to the brim is forgotten (it is the same as none), and while
``max_keys`` buckets are still filling, a new key is refused: a flood of new names gets no fresh
allowance each, and the worker's memory stays bounded.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.errors import ConfigurationError, RateLimitedError


@dataclass(frozen=True)
class Allowance:
    """Calls a minute (0: unlimited) and the burst admitted at once."""

    per_minute: int
    burst: int


def parse_overrides(setting: str, default: Allowance) -> dict[str, Allowance]:
    """``KR=1200:200,US=300`` → {partner: Allowance}: calls a minute and, optionally, the burst
    (otherwise the default burst); ConfigurationError if malformed."""
    overrides: dict[str, Allowance] = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        partner, _, figures = entry.partition("=")
        rate, _, burst = figures.partition(":")
        if not partner.strip() or not rate.isdigit() or not (burst.isdigit() or not burst):
            raise ConfigurationError(
                f"rate_limits: {entry!r} is not PARTNER=calls-per-minute[:burst]"
            )
        overrides[partner.strip()] = Allowance(int(rate), int(burst or default.burst))
    return overrides


#: Buckets held at most when the keys are chosen by the caller.
MAX_KEYS = 10_000


class RateLimiter:
    """Token buckets by partner; thread-safe (the Flask handlers run in a thread pool)."""

    def __init__(
        self,
        default: Allowance,
        overrides: Mapping[str, Allowance] | None = None,
        *,
        share: int = 1,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default
        self._overrides = dict(overrides or {})
        self._share = max(1, share)
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        #: partner → (tokens, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._pruned_at = -math.inf

    def allowance(self, partner: str) -> Allowance:
        """The partner's allowance for the whole gateway (before the per-worker share)."""
        return self._overrides.get(partner, self._default)

    def take(self, partner: str) -> None:
        """Count one call of ``partner``; RateLimitedError if its bucket is empty."""
        wait = self._wait(partner)
        if wait is not None:
            raise RateLimitedError(
                f"more than {self.allowance(partner).per_minute} calls a minute from {partner}; "
                f"try again in {wait} s",
                partner=partner,
                retry_after=wait,
            )

    def admits(self, key: str) -> bool:
        """Count one use by ``key``: whether its bucket held a token."""
        return self._wait(key) is None

    def _wait(self, key: str) -> int | None:
        """Take a token of ``key``: None if there was one, else the seconds until one comes."""
        allowance = self.allowance(key)
        if allowance.per_minute <= 0:
            return None
        rate = allowance.per_minute / 60.0 / self._share  # tokens a second, this worker
        capacity = max(1.0, allowance.burst / self._share)
        now = self._clock()
        with self._lock:
            held = self._buckets.get(key)
            if held is None and len(self._buckets) >= self._max_keys:
                # at most once a second: a scan per call would be the flood's lever
                if now - self._pruned_at >= 1.0:
                    self._pruned_at = now
                    self._forget_full(now)
                if len(self._buckets) >= self._max_keys:
                    return math.ceil(1.0 / rate)
            tokens, then = held or (capacity, now)
            tokens = min(capacity, tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return math.ceil((1.0 - tokens) / rate)
            self._buckets[key] = (tokens - 1.0, now)
            return None

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled to the brim (the lock is held)."""
        for key, (tokens, then) in list(self._buckets.items()):
            allowance = self.allowance(key)
            rate = allowance.per_minute / 60.0 / self._share
            if tokens + (now - then) * rate >= max(1.0, allowance.burst / self._share):
                del self._buckets[key]
