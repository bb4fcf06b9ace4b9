"""Retries for provider calls: only retryable errors, exponential backoff with full jitter,
``Retry-After`` honoured up to a cap. Built on tenacity."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from oneringai.domain.errors import ProviderError

__all__ = ["call_with_retries"]

logger = logging.getLogger("oneringai.providers.retry")
T = TypeVar("T")


def _is_retryable(max_wait: float) -> Callable[[BaseException], bool]:
    def check(error: BaseException) -> bool:
        if not isinstance(error, ProviderError) or not error.is_retryable:
            return False
        # Waiting less than the provider asked only earns another refusal.
        return error.retry_after is None or error.retry_after <= max_wait

    return check


def _wait(max_wait: float) -> Callable[[RetryCallState], float]:
    jitter = wait_random_exponential(multiplier=0.5, max=max_wait)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return min(error.retry_after, max_wait)
        return float(jitter(state))

    return wait


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    max_wait: float = 30.0,
    description: str = "",
) -> T:
    if max_retries <= 0:
        return await call()

    def log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s: attempt %d failed (%s); retrying in %.2fs",
            description,
            state.attempt_number,
            error,
            state.next_action.sleep if state.next_action else 0.0,
        )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_retries + 1),
        wait=_wait(max_wait),
        retry=retry_if_exception(_is_retryable(max_wait)),
        before_sleep=log,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover
