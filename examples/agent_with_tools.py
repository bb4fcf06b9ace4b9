"""An agent with tools; its executor stack (audit, permissions, cost, rate limit, cache,
timeout, retry) comes from examples/agent.yaml.

Run: .venv/bin/python examples/agent_with_tools.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _local_llm import local_llm

from oneringai import OneRingAI, tool
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor


@tool(cost=0.1)
def get_weather(city: str) -> dict[str, str]:
    """Current weather for a city."""
    return {"city": city, "sky": "sunny", "temperature_c": "21"}


async def main() -> None:
    # Show the kit's own records (the audit layer logs each tool call), not every HTTP request.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("oneringai").setLevel(logging.INFO)
    async with local_llm() as url:
        os.environ["LOCAL_LLM_URL"] = url
        async with OneRingAI.from_config(Path(__file__).parent / "agent.yaml") as client:
            agent = await client.agents.create(tools=[get_weather], instructions="Use tools.", user_id="alice")
            async for event in agent.stream("What is the weather in Paris?"):
                if event.type == "response.tool_execution.start":
                    print(f"-> {event.tool_name}({event.arguments})")
                elif event.type == "response.tool_execution.done":
                    print(f"<- {event.result.output} ({event.duration_ms:.1f} ms)")
                elif event.type == "response.complete":
                    print("answer:", event.response.output_text)
            again = await agent.run("And in Paris again?")  # served from the cache layer
            print("answer:", again.output_text)
            cost = client.agents.executor.find(CostTrackingToolExecutor)  # type: ignore[attr-defined]
            print("usage:", cost.usage() if cost else None)


if __name__ == "__main__":
    asyncio.run(main())
