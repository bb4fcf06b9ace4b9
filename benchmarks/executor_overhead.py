"""Per-call overhead of a 6-decorator executor stack over the direct executor (µs)."""

from __future__ import annotations

import asyncio
import time

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.infrastructure.tool_executors.retry import RetryingToolExecutor
from oneringai.infrastructure.tool_executors.timeout import TimeoutToolExecutor
from oneringai.testing import tool_call


@tool(cacheable=False)
async def add(a: int, b: int) -> int:
    return a + b


async def per_call(executor, calls: int) -> float:  # type: ignore[no-untyped-def]
    context = ToolExecutionContext(tools=[add], user_id="u")
    call = tool_call("add", a=1, b=2)
    for _ in range(500):
        await executor.execute_tool(call, context)
    started = time.process_time()
    for _ in range(calls):
        await executor.execute_tool(call, context)
    return (time.process_time() - started) / calls * 1e6


async def main() -> None:
    direct = DirectToolExecutor()
    stack = AuditingToolExecutor(  # the six of the issue (cache is a miss: add is not cacheable)
        PermissionToolExecutor(
            RateLimitingToolExecutor(
                CachingToolExecutor(TimeoutToolExecutor(RetryingToolExecutor(DirectToolExecutor()), default=30)),
                per_minute=10**9,
            ),
            deny=["nope"],
        ),
        on_record=lambda record: None,
    )
    seven = CostTrackingToolExecutor(stack)
    rounds = {"direct": [], "6 layers": [], "7 layers (+cost)": []}
    for _ in range(5):
        rounds["direct"].append(await per_call(direct, 5000))
        rounds["6 layers"].append(await per_call(stack, 5000))
        rounds["7 layers (+cost)"].append(await per_call(seven, 5000))
    base = min(rounds["direct"])  # least-disturbed round of each
    for name, values in rounds.items():
        median = min(values)
        print(f"{name:18} {median:7.1f} µs/call  overhead {median - base:6.1f} µs  ({median / base:.2f}x)")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()  # --help describes, never runs
    asyncio.run(main())
