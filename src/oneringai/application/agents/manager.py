"""``client.agents``: creates agents bound to a provider, with their own tool registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from oneringai.application.agents.agent import Agent, AgentHooks
from oneringai.domain.content import InputItem
from oneringai.domain.interfaces import ITextProvider, IToolExecutor
from oneringai.domain.response import LLMResponse
from oneringai.domain.telemetry import NOOP_TELEMETRY, Telemetry
from oneringai.domain.tools import Tool

if TYPE_CHECKING:
    from oneringai.application.agents.config import AgentSettings
    from oneringai.application.text_manager import TextManager

__all__ = ["AgentManager", "AgentOptions"]


class AgentOptions(TypedDict, total=False):
    """The keywords of ``AgentManager.create`` (typed for editors and mypy)."""

    provider: str | None
    model: str | None
    tools: Sequence[Tool | Any]
    instructions: str | None
    executor: IToolExecutor | None
    max_iterations: int | None
    timeout: float | None
    user_id: str | None
    roles: Sequence[str]
    hooks: AgentHooks | None
    temperature: float | None
    max_output_tokens: int | None
    agent_id: str | None
    name: str | None
    telemetry: Telemetry | None
    tool_timeout: float | None
    max_tool_output_chars: int
    provider_options: Mapping[str, Any] | None


class AgentManager:
    def __init__(
        self,
        text: TextManager,
        executor: IToolExecutor | Callable[[], IToolExecutor],
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
        """The executor stack built from ``tools.executor`` (a callable is resolved on each use,
        so a container override made later applies)."""
        executor = self._executor
        return executor if isinstance(executor, IToolExecutor) else executor()

    def create(self, options: Mapping[str, Any] | None = None, /, **keywords: Unpack[AgentOptions]) -> Agent:
        """A new agent. ``tools`` may be ``Tool``s or plain functions (wrapped with ``tool``).

        Keywords: ``provider``, ``model``, ``tools``, ``instructions``, ``executor``,
        ``max_iterations``, ``timeout``, ``user_id``, ``roles``, ``hooks``, ``temperature``,
        ``max_output_tokens``, ``agent_id``, ``name``, ``tool_timeout``, ``max_tool_output_chars``,
        ``provider_options`` (vendor knobs sent with every model request of the agent, such as
        Anthropic's ``{"thinking": {"type": "enabled", "budget_tokens": 2048}}`` or OpenAI's
        ``{"seed": 42, "reasoning_effort": "low"}``: a mapping of JSON values, checked here; a
        ``before_model`` hook still sees them and may change them; never from YAML).
        The guide's single options object (``create({"provider": ..., "maxIterations": 5})``)
        is accepted too: camelCase keys map to the keywords; an unknown key, or one given both
        ways, is a ``TypeError`` naming the allowed keywords.

        Synchronous, and also awaitable (``await client.agents.create(...)``, as in the guide);
        the provider is resolved on first use.
        """
        given: dict[str, Any] = dict(keywords)
        if options is not None:
            given = _keywords_from_options(options, given)
        unknown = sorted(given.keys() - _CREATE_KEYWORDS)
        if unknown:
            raise TypeError(
                f"agents.create(): unknown option(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(_CREATE_KEYWORDS))})"
            )
        return self._create(**given)

    def _create(
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
        from oneringai.application.tools import FunctionTool

        resolved_model = self._text._model_for(provider, model)  # unknown names fail here

        async def target() -> ITextProvider:
            return await self._text.resolve(provider)

        own_tools = [t if isinstance(t, Tool) else FunctionTool(t) for t in tools]
        return Agent(
            provider=target,
            model=resolved_model,
            executor=executor or self.executor,
            tools=own_tools,
            instructions=instructions,
            max_iterations=max_iterations if max_iterations is not None else self._settings.max_iterations,
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


_CREATE_KEYWORDS = frozenset(AgentOptions.__annotations__)
#: The guide's names that are not a camelCase spelling of ours.
_GUIDE_ALIASES = {"system_prompt": "instructions", "max_tokens": "max_output_tokens"}


def _keywords_from_options(options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The guide's options object as keywords: camelCase keys mapped, duplicates refused."""
    from oneringai.application.guide_spelling import snake_case

    if not isinstance(options, Mapping):
        raise TypeError(
            "agents.create() takes keywords (provider=..., model=..., tools=[...]) or one mapping of them, "
            f"not {type(options).__name__}"
        )
    keywords: dict[str, Any] = {}
    for key, value in options.items():
        name = snake_case(str(key))
        keywords[_GUIDE_ALIASES.get(name, name)] = value
    twice = sorted(keywords.keys() & given.keys())
    if twice:
        raise TypeError(f"agents.create(): {', '.join(twice)} given both in the options mapping and as keywords")
    return {**keywords, **given}
