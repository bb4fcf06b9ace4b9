"""Retries for provider calls: only retryable errors, exponential backoff with full jitter,
``Retry-After`` honoured up to a cap. Built on tenacity, imported on the first retry (a call
that succeeds never needs it: ~6 ms off a cold first call)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from oneringai.domain.errors import ProviderError
from oneringai.domain.redaction import get_logger
from oneringai.domain.telemetry import span_event

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["call_with_retries"]

logger = get_logger("oneringai.providers.retry")
_FIRST_BACKOFF = 1.0  # full jitter over [0, 1 s] before the first retry, doubling after
T = TypeVar("T")


def _is_retryable(max_wait: float) -> Callable[[BaseException], bool]:
    def check(error: BaseException) -> bool:
        if not isinstance(error, ProviderError) or not error.is_retryable:
            return False
        # Waiting less than the provider asked only earns another refusal.
        return error.retry_after is None or error.retry_after <= max_wait

    return check


def _wait(max_wait: float) -> Callable[[RetryCallState], float]:
    from tenacity import wait_random_exponential

    jitter = wait_random_exponential(multiplier=0.5, max=max_wait)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return min(error.retry_after, max_wait)
        return float(jitter(state))

    return wait


def _retry_event(attempt: int, wait: float, error: BaseException | None) -> None:
    """A ``oneringai.retry`` event on the current (chat) span: no-op when tracing is off. The
    conventions define no retry event, and the ``gen_ai`` namespace is theirs: the names are ours."""
    attributes: dict[str, str | int | float] = {
        "oneringai.retry.attempt": attempt,
        "oneringai.retry.wait": float(wait),
        "error.type": type(error).__name__,
    }
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        attributes["http.response.status_code"] = status
    span_event("oneringai.retry", attributes)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    max_wait: float = 30.0,
    description: str = "",
) -> T:
    """The first attempt runs bare (the common, successful case pays nothing); tenacity
    drives the retries after a retryable failure."""
    retryable = _is_retryable(max_wait)
    try:
        return await call()
    except ProviderError as error:
        if max_retries <= 0 or not retryable(error):
            raise
        first = error
    delay = (
        min(first.retry_after, max_wait)
        if first.retry_after is not None
        else random.uniform(0, min(max_wait, _FIRST_BACKOFF))
    )
    logger.warning("%s: attempt 1 failed (%s); retrying in %.2fs", description, first, delay)
    _retry_event(2, delay, first)
    await asyncio.sleep(delay)

    def log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s: attempt %d failed (%s); retrying in %.2fs",
            description,
            state.attempt_number + 1,
            error,
            state.next_action.sleep if state.next_action else 0.0,
        )
        _retry_event(state.attempt_number + 2, state.next_action.sleep if state.next_action else 0.0, error)

    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_retries),
        wait=_wait(max_wait),
        retry=retry_if_exception(retryable),
        before_sleep=log,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover
