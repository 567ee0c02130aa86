"""One retry helper, on tenacity, for every retry outside the HTTP pipeline.

The HTTP pipeline (`nswoo._http`) retries requests by its own policy (`Retry-After`, full
jitter, idempotency). Everything else that tries again within one process uses
`Retry.call()`, which runs an operation until it succeeds, bounded by attempts and total
time: a write the SQLite store's lock kept out (`store/sqlite.py`), a claim on an order
another worker holds (`claim_or_wait`). Work kept in storage between runs (inbox
deliveries, dead letters) is retried by later passes on schedules that are pure rules of
its capability (`orders/_plan.py`: `RetryPolicy`, `DEAD_LETTER_BACKOFF`), not by a loop.

Time is read from an injected `Clock` (tenacity's own timestamps are the wall clock), so
tests drive the schedules with a `FakeClock`; `wait` is any tenacity wait strategy
(`wait_fixed`, `wait_exponential`, `wait_chain`, ...) or a function of the
`RetryCallState`, which also carries the last outcome (a `Busy` claim says when its lease
ends). A wait never runs past the time bound: the last one is cut to what is left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    wait_none,
)

from ._clock import Clock, SystemClock

__all__ = ["Retry", "Wait"]

T = TypeVar("T")

Wait = Callable[[RetryCallState], float]
"""Seconds to wait before the next attempt, given tenacity's state of the last one."""


def _never(_value: Any) -> bool:
    return False


@attrs.frozen
class Retry:
    """How often and how long an operation is tried, and how long to wait between tries.

    Example:
        >>> import anyio
        >>> from tenacity import wait_fixed
        >>> from nswoo.testing import FakeClock
        >>> calls = []
        >>> async def flaky() -> int:
        ...     calls.append(1)
        ...     if len(calls) < 3:
        ...         raise ConnectionError("down")
        ...     return len(calls)
        >>> clock = FakeClock()
        >>> retry = Retry(attempts=5, seconds=60.0, wait=wait_fixed(2))
        >>> down = lambda exc: isinstance(exc, ConnectionError)
        >>> anyio.run(lambda: retry.call(flaky, on=down, clock=clock))
        3
        >>> clock.sleeps
        [2.0, 2.0]

    Attributes:
        attempts: the most tries (the first included); None: bounded by `seconds` only.
        seconds: the most time from the first try to the last; None: by `attempts` only.
        wait: seconds before the next try (a tenacity wait strategy); none by default.
    """

    attempts: int | None = 3
    seconds: float | None = None
    wait: Wait = attrs.field(factory=wait_none)

    def __attrs_post_init__(self) -> None:
        if self.attempts is None and self.seconds is None:
            raise ValueError("a Retry must be bounded by attempts, by seconds, or by both")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"seconds must be at least 0, got {self.seconds}")

    async def call(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        on: Callable[[BaseException], bool] = _never,
        again: Callable[[T], bool] = _never,
        clock: Clock | None = None,
    ) -> T:
        """Run `operation` until it neither raises an error `on` accepts nor returns a
        result `again` accepts, or the bounds are spent.

        Args:
            operation: what to try; called afresh each time.
            on: errors worth another try (others propagate at once).
            again: results worth another try (a `Busy` claim).
            clock: where time is read and waits are slept (default: the system clock).

        Returns:
            The first result `again` refuses, or the last result when the bounds ran out.

        Raises:
            BaseException: the last error, when the bounds ran out on errors, or at once
                an error `on` does not accept.
        """
        clock = clock or SystemClock()
        started = clock.now()

        def stop(state: RetryCallState) -> bool:
            return self._spent(state.attempt_number, clock.now() - started)

        def wait(state: RetryCallState) -> float:
            seconds = max(0.0, float(self.wait(state)))
            if self.seconds is not None:
                seconds = min(seconds, max(0.0, self.seconds - (clock.now() - started)))
            return seconds

        retrying: AsyncRetrying = AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(on) | retry_if_result(again),
            sleep=clock.sleep,
            reraise=True,
            # The bounds ran out on a result `again` wanted to try past: that result is the
            # answer (a claim still `Busy`), not an error.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )

        async def attempt() -> T:
            # tenacity awaits only what it recognises as a coroutine function.
            return await operation()

        result: T = await retrying(attempt)
        return result

    def _spent(self, attempt: int, elapsed: float) -> bool:
        if self.attempts is not None and attempt >= self.attempts:
            return True
        return self.seconds is not None and elapsed >= self.seconds
