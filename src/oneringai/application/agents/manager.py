"""``client.agents``: creates agents bound to a provider, with their own tool registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from oneringai.application.agents.agent import Agent, AgentHooks
from oneringai.domain.content import InputItem
from oneringai.domain.interfaces import ITextProvider, IToolExecutor
from oneringai.domain.response import LLMResponse
from oneringai.domain.telemetry import NOOP_TELEMETRY, Telemetry
from oneringai.domain.tools import Tool

if TYPE_CHECKING:
    from oneringai.application.agents.config import AgentSettings
    from oneringai.application.text_manager import TextManager

__all__ = ["AgentManager"]


class AgentManager:
    def __init__(
        self,
        text: TextManager,
        executor: IToolExecutor,
        settings: AgentSettings | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        from oneringai.application.agents.config import AgentSettings as _AgentSettings

        self._text = text
        self._executor = executor
        self._settings = settings or _AgentSettings()
        self._telemetry = telemetry or NOOP_TELEMETRY

    @property
    def executor(self) -> IToolExecutor:
        """The executor stack built from ``tools.executor``."""
        return self._executor

    def create(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        tools: Sequence[Tool | Any] = (),
        instructions: str | None = None,
        executor: IToolExecutor | None = None,
        max_iterations: int | None = None,
        timeout: float | None = None,
        user_id: str | None = None,
        roles: Sequence[str] = (),
        hooks: AgentHooks | None = None,
        **kwargs: Any,
    ) -> Agent:
        """A new agent. ``tools`` may be ``Tool``s or plain functions (wrapped with ``tool``).

        Synchronous, and also awaitable (``await client.agents.create(...)``, as in the guide);
        the provider is resolved on first use.
        """
        from oneringai.application.tools import FunctionTool

        resolved_model = self._text._model_for(provider, model)  # unknown names fail here

        async def target() -> ITextProvider:
            return await self._text.resolve(provider)

        own_tools = [t if isinstance(t, Tool) else FunctionTool(t) for t in tools]
        return Agent(
            provider=target,
            model=resolved_model,
            executor=executor or self._executor,
            tools=own_tools,
            instructions=instructions,
            max_iterations=max_iterations or self._settings.max_iterations,
            max_parallel_tools=self._settings.max_parallel_tools,
            timeout=timeout if timeout is not None else self._settings.timeout,
            user_id=user_id,
            roles=roles,
            hooks=hooks,
            tool_timeout=kwargs.pop("tool_timeout", self._settings.tool_timeout),
            max_tool_output_chars=kwargs.pop("max_tool_output_chars", self._settings.max_tool_output_chars),
            telemetry=kwargs.pop("telemetry", self._telemetry),
            **kwargs,
        )

    async def run(self, input: str | Sequence[InputItem], **kwargs: Any) -> LLMResponse:
        """Create a one-off agent and run it."""
        return await self.create(**kwargs).run(input)
