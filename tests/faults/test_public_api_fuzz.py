"""Property: the public API, called the way a caller calls it — with any value of any type —
returns a valid value or raises a typed error of ours (``OneRingAIError``; caller mistakes are
also ``ValueError``/``TypeError``), never a raw ``AttributeError``, ``OverflowError``,
``NameError``, ``RecursionError``, ``UnicodeEncodeError`` or a pydantic error from deep inside,
and never sends a request that is no JSON.

Found by fuzzing every entry point of ``oneringai.__all__`` from the caller's side
(docs/reliability.md, "The public API fuzzed from the caller's side"). Each property holds for
every example, so it does not depend on the seed; requests go to a real loopback vendor server.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from oneringai import (
    Agent,
    AgentManager,
    ConfigError,
    DirectToolExecutor,
    KeyRing,
    ModelNotFoundError,
    OAuthError,
    OAuthManager,
    OneRingAI,
    OneRingAIError,
    ProviderError,
    ProviderErrorMapper,
    RequestOptionsError,
    TokenStorageError,
    ToolCall,
    ToolExecutionContext,
    ToolExecutionError,
    ToolResult,
    load_settings,
    tool,
)
from oneringai.application.agents.support import AgentHooks, AgentLimitError
from oneringai.application.text_manager import SchemaError
from oneringai.application.tools import ToolDefinitionError
from oneringai.domain.tools import FunctionDefinition, FunctionToolDefinition, Tool, ToolCallFunction
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.literal_options import OptionsTypeError
from oneringai.infrastructure.providers.ollama import OllamaTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.testing import MemoryTokenStorage, ScriptedTextProvider
from oneringai.testing import tool_call as scripted_call
from tests.vendor_server import VendorServer

KEY = "sk-proj-PublicApiFuzzKey0123456789abcdefXYZ"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)

#: Numbers a caller may hand any numeric option: huge ints (no float holds them), NaN, ±inf.
NUMBERS = (
    st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.integers(min_value=-(10**400), max_value=-(10**300))
    | st.floats()
    | st.sampled_from([10**5000, math.nan, math.inf, -math.inf, True, False, 0, -1])
)
ANY = (
    NUMBERS
    | st.none()
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.lists(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=4), st.integers(), max_size=3)
    | st.sampled_from([object(), {1, 2}, list, str, int, dict, BaseModel, "\ud800", "a\x00b"])
)


def _add(a: int, b: int = 0) -> int:
    """Add two numbers."""
    return a + b


# --- tools built from functions -----------------------------------------------------------------
def _forward_ref(a: Nope) -> int:  # type: ignore[name-defined]  # noqa: F821 - the point of the test
    return 1


Recursive = typing.Union[int, list["Recursive"]]  # noqa: UP007 - a string forward ref, unresolvable here


def _recursive(a: Recursive) -> int:
    return 1


def _callable_hint(a: typing.Callable[[int], int]) -> int:
    return 1


def _arbitrary_hint(a: asyncio.Lock) -> int:
    return 1


@pytest.mark.parametrize("func", [_forward_ref, _recursive, _callable_hint, _arbitrary_hint, 5, None.__class__])
def test_a_function_that_cannot_be_a_tool_is_a_tool_definition_error(func: Any) -> None:
    """``NameError`` (a hint naming nothing), pydantic's ``PydanticUserError`` family (no schema
    for the hint; a RuntimeError, not even a ValueError) leaked from ``@tool``."""
    with pytest.raises(ToolDefinitionError) as caught:
        tool(func)
    assert isinstance(caught.value, OneRingAIError | ValueError)


@FUZZ
@given(cost=NUMBERS | ANY)
def test_a_tool_price_of_any_value_is_a_price_or_a_tool_definition_error(cost: Any) -> None:
    """``cost=10**400`` passed the check (``10**400 < inf``) and ``float()`` raised
    ``OverflowError``; ``cost=10**5000`` made the message itself a ``ValueError``."""
    try:
        made = tool(cost=cost)(_add)
    except ToolDefinitionError as error:
        assert str(error)
        return
    assert math.isfinite(made.cost_per_call) and made.cost_per_call >= 0


@FUZZ
@given(price=st.integers(min_value=2**1024, max_value=10**400) | st.sampled_from([math.inf, math.nan, -1]))
def test_the_cost_executor_refuses_a_price_no_float_holds(price: int | float) -> None:
    """A custom ``Tool`` priced ``10**400`` made ``price_of`` raise ``OverflowError``."""

    class Priced(Tool):
        cost_per_call = price  # type: ignore[assignment]

        @property
        def definition(self) -> FunctionToolDefinition:
            return FunctionToolDefinition(function=FunctionDefinition(name="priced"))

        async def execute(self, arguments: Any) -> Any:
            return "done"

    executor = CostTrackingToolExecutor(DirectToolExecutor())
    call = ToolCall(id="c1", function=ToolCallFunction(name="priced", arguments="{}"))
    result = asyncio.run(executor.execute_tool(call, ToolExecutionContext(tools=[Priced()])))
    assert result.metadata["code"] == "invalid_price"


# --- the direct executor called with the guide's literals ---------------------------------------
@FUZZ
@given(call=ANY | st.fixed_dictionaries({"id": st.text(max_size=4), "function": ANY}))
def test_execute_tool_with_anything_as_the_call_answers_or_raises_ours(call: Any) -> None:
    """``execute_tool(5, ctx)`` / ``execute_tool({...}, ctx)`` raised ``AttributeError`` reading
    ``tool_call.function`` in the executor that promises never to raise."""
    context = ToolExecutionContext(tools=[tool(_add)])
    try:
        result = asyncio.run(DirectToolExecutor().execute_tool(call, context))
    except ToolExecutionError as error:
        assert "ToolCall" in str(error)
        return
    assert isinstance(result, ToolResult)


def test_execute_tool_reads_the_guides_literal_and_a_missing_context() -> None:
    literal = {"id": "c1", "function": {"name": "_add", "arguments": '{"a": 2, "b": 3}'}}
    context = ToolExecutionContext(tools=[tool(_add)])
    assert asyncio.run(DirectToolExecutor().execute_tool(literal, context)).output == "5"  # type: ignore[arg-type]
    missing = asyncio.run(DirectToolExecutor().execute_tool(ToolCall.model_validate(literal), None))  # type: ignore[arg-type]
    assert missing.metadata["code"] == "unknown_tool"


# --- agents -------------------------------------------------------------------------------------
def _agents() -> AgentManager:
    return OneRingAI(providers={"fake": ScriptedTextProvider(["hi"], repeat_last=True)}).agents


@FUZZ
@given(name=st.sampled_from(["timeout", "tool_timeout", "max_iterations", "max_tool_output_chars"]), value=NUMBERS | ANY)
def test_agent_limits_of_any_value_are_limits_or_an_agent_limit_error(name: str, value: Any) -> None:
    """``timeout=10**400`` passed (``10**400 < inf``) and the run raised ``OverflowError``;
    ``max_iterations=10**5000`` turned the ``AgentLimitError`` into a ``ValueError`` (the int's repr)."""
    try:
        agent = _agents().create(model="m", **{name: value})
    except AgentLimitError as error:
        assert len(str(error)) < 400
        return
    assert asyncio.run(agent.run("hello")).output_text == "hi"


class _DuckHooks:
    before_model = after_model = before_tool = after_tool = None


@FUZZ
@given(
    hooks=ANY
    | st.builds(AgentHooks, before_model=ANY.filter(lambda hook: not callable(hook)))
    | st.just(_DuckHooks())
    | st.just({"before_model": print})
)
def test_agent_hooks_of_any_value_are_hooks_or_an_agent_limit_error(hooks: Any) -> None:
    """``hooks={"before_model": f}`` or ``hooks=5`` was accepted and the first run raised
    ``AttributeError``; a hook of ``5`` a ``TypeError`` ('int' object is not callable). (A
    callable hook that raises still ends the run with its own exception, as documented.)"""
    try:
        agent = _agents().create(model="m", hooks=hooks)
    except AgentLimitError as error:
        assert "AgentHooks" in str(error)
        return
    assert asyncio.run(agent.run("hello")).output_text == "hi"


# --- generate_json's schema ---------------------------------------------------------------------
class _Unschemable(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    lock: asyncio.Lock | None = None


class _Answer(BaseModel):
    a: int


@FUZZ
@given(schema=ANY | st.sampled_from([_Unschemable, _Answer, {"type": "object"}]))
def test_generate_json_with_any_schema_answers_or_raises_a_schema_error(schema: Any) -> None:
    """``schema=str`` / ``schema=5`` raised ``AttributeError`` (``model_json_schema``); a model with
    a field no JSON Schema describes raised pydantic's ``PydanticInvalidForJsonSchema``."""
    client = OneRingAI(providers={"fake": ScriptedTextProvider(['{"a": 1}'], repeat_last=True)})
    try:
        value = asyncio.run(client.text.generate_json("json please", schema=schema, model="m"))
    except SchemaError as error:
        assert isinstance(error, ConfigError | TypeError)
        return
    except (ProviderError, RequestOptionsError):  # a dict schema the answer does not match, or no JSON
        return
    assert value == {"a": 1} or value == _Answer(a=1)


# --- requests that are no JSON ------------------------------------------------------------------
class Loopback:
    """One event loop, vendor server and client (three providers) for the whole module."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.server = VendorServer()
        self.runner.run(self.server.start())
        url = self.server.url
        self.client = OneRingAI(providers={
            "openai": OpenAITextProvider({"api_key": KEY, "base_url": f"{url}/v1", "max_retries": 0}),
            "anthropic": AnthropicTextProvider({"api_key": KEY, "base_url": url, "max_retries": 0}),
            "ollama": OllamaTextProvider({"base_url": url, "max_retries": 0}),
        })

    def close(self) -> None:
        self.runner.run(self.client.destroy())
        self.runner.run(self.server.stop())
        self.runner.close()


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    opened = Loopback()
    try:
        yield opened
    finally:
        opened.close()


def _poison(kind: str) -> Any:
    if kind == "cycle":
        cycle: dict[str, Any] = {}
        cycle["self"] = cycle
        return cycle
    if kind == "deep":
        deep: dict[str, Any] = {}
        node = deep
        for _ in range(sys.getrecursionlimit() + 100):
            node["a"] = {}
            node = node["a"]
        return deep
    return {"object": object(), "set": {1}, "nan": math.nan, "inf": math.inf, "bytes": b"x"}[kind]


POISON = st.sampled_from(["cycle", "deep", "object", "set", "nan", "inf", "bytes"]).map(_poison)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    provider=st.sampled_from(["openai", "anthropic", "ollama"]),
    where=st.sampled_from(["tool", "provider_options", "json_schema"]),
    poison=POISON,
    stream=st.booleans(),
)
def test_a_request_that_is_no_json_is_refused_before_it_is_sent(
    loopback: Loopback, provider: str, where: str, poison: Any, stream: bool
) -> None:
    """A tool schema, ``provider_options`` or ``generate_json`` schema holding an object, a set, a
    cycle or 1,100 levels raised the encoder's ``TypeError``/``ValueError``/``RecursionError``;
    NaN was sent as the invalid JSON token ``NaN``. Now ``RequestOptionsError`` and nothing sent."""
    sent = len(loopback.server.requests)
    text = loopback.client.text

    async def call() -> Any:
        if where == "json_schema":
            return await text.generate_json("x", schema={"type": "object", "x": poison}, provider=provider, model="ok")
        keywords: dict[str, Any] = {"provider": provider, "model": "ok"}
        if where == "tool":
            keywords["tools"] = [{"type": "function", "function": {"name": "t", "parameters": {"p": poison}}}]
        else:
            keywords["provider_options"] = {"p": poison}
        if stream:
            return [event async for event in text.stream("x", **keywords)]
        return await text.generate("x", **keywords)

    with pytest.raises(RequestOptionsError) as caught:
        loopback.runner.run(call())
    assert KEY not in str(caught.value)
    assert len(loopback.server.requests) == sent


# --- ProviderErrorMapper with a caller's dict of JSON values --------------------------------------
HEADER_NAMES = st.sampled_from(
    ["retry-after", "Retry-After", "retry-after-ms", "x-should-retry", "request-id", "x-request-id", "location"]
)


@FUZZ
@given(
    status=NUMBERS | ANY | st.sampled_from(["429", "500", " 401 ", "abc"]),
    headers=ANY | st.dictionaries(HEADER_NAMES, ANY, max_size=4),
)
def test_the_error_mapper_takes_any_status_and_headers(status: Any, headers: Any) -> None:
    """``status_code="429"`` raised ``TypeError`` (str < int); ``{"retry-after": 5}``,
    ``{"x-should-retry": []}`` ``AttributeError``; ``{"retry-after-ms": 10**400}`` ``OverflowError``."""
    error = ProviderErrorMapper.from_http_response(
        status, {"error": {"message": f"bad key {KEY}"}}, headers, provider="p", model="m", secrets=[KEY]
    )
    assert isinstance(error, ProviderError)
    assert KEY not in str(error)
    assert error.status_code is None or 0 <= error.status_code <= 999
    assert error.retry_after is None or math.isfinite(error.retry_after)


@FUZZ
@given(value=ANY)
def test_parse_retry_after_of_any_value_is_seconds_or_none(value: Any) -> None:
    parsed = ProviderErrorMapper.parse_retry_after(value)
    assert parsed is None or (math.isfinite(parsed) and parsed >= 0)


# --- OAuthManager built in code -----------------------------------------------------------------
CONNECTION = {
    "flow": "authorization_code",
    "client_id": "cid",
    "authorization_url": "https://auth.example/authorize",
    "token_url": "https://auth.example/token",
    "redirect_uri": "http://localhost/callback",
}


@FUZZ
@given(option=st.sampled_from(["refresh_skew", "state_ttl"]), value=NUMBERS | ANY)
def test_oauth_manager_timing_of_any_value_is_seconds_or_a_config_error(option: str, value: Any) -> None:
    """``refresh_skew=10**400`` raised ``OverflowError``; ``state_ttl=inf`` failed
    ``start_authorization`` with pydantic's ``ValidationError``; NaN was accepted."""
    try:
        manager = OAuthManager(CONNECTION, storage=MemoryTokenStorage(), **{option: value})
    except ConfigError as error:
        assert option in str(error)
        return
    assert math.isfinite(getattr(manager, option))
    url, state = asyncio.run(manager.start_authorization("user"))
    assert state in url


@pytest.mark.parametrize("storage", [5, "memory", {"store_token": 1}, object()])
def test_oauth_manager_refuses_what_is_no_token_storage(storage: Any) -> None:
    with pytest.raises(ConfigError, match="token storage"):
        OAuthManager(CONNECTION, storage=storage)


def test_oauth_manager_name_must_be_text() -> None:
    with pytest.raises(ConfigError, match="name must be a string"):
        OAuthManager(CONNECTION, storage=MemoryTokenStorage(), name=5)  # type: ignore[arg-type]


@FUZZ
@given(scopes=ANY | st.lists(st.text(max_size=6), max_size=3) | st.sampled_from(["read write", "\ud800"]))
def test_scopes_of_any_value_are_a_scope_parameter_or_an_oauth_error(scopes: Any) -> None:
    """``scopes="read write"`` asked for the scopes ``r e a d w r i t e``; ``scopes=[5]`` raised
    ``TypeError``, ``scopes=["\\ud800"]`` ``UnicodeEncodeError``."""
    manager = OAuthManager(CONNECTION, storage=MemoryTokenStorage())
    try:
        url, _ = manager.get_authorization_url(scopes=scopes)
    except OAuthError as error:
        assert "scopes" in str(error)
        return
    if scopes == "read write":
        assert "scope=read+write" in url


# --- the client and the configuration loader ----------------------------------------------------
@FUZZ
@given(
    argument=st.sampled_from(["providers", "settings", "default_provider", "token_storage"]),
    value=ANY | st.dictionaries(st.text(max_size=3) | st.integers(), ANY, min_size=1, max_size=2),
)
def test_the_client_takes_any_argument_or_raises_a_config_error(argument: str, value: Any) -> None:
    """``OneRingAI(providers={"a": 5})`` was accepted and ``generate`` raised ``AttributeError``
    (``providers=5`` at once); ``settings=5`` / ``token_storage=5`` the same from the container."""
    try:
        client = OneRingAI(**{argument: value})
    except ConfigError:
        return
    assert value is None or value == {} or argument == "default_provider"
    asyncio.run(client.destroy())


@FUZZ
@given(argument=st.sampled_from(["path", "profile", "env", "dotenv", "overrides"]), value=ANY)
def test_load_settings_takes_any_argument_or_raises_a_config_error(argument: str, value: Any) -> None:
    """``env={"ONERINGAI_HTTP": 5}`` raised ``AttributeError``, ``overrides=5`` too,
    ``overrides={1: 2}`` pydantic's ``TypeError`` (keywords must be strings), ``path=5`` ``TypeError``."""
    if argument in ("path", "dotenv") and isinstance(value, str):
        value = f"/nonexistent/{value!r}"  # never read a real file of the working directory
    try:
        load_settings(**{argument: value, **({"dotenv": None} if argument != "dotenv" else {})})
    except ConfigError:
        return


def test_agent_hooks_check_keeps_a_duck_typed_hooks_object() -> None:
    agent = Agent(provider=ScriptedTextProvider(["ok"]), model="m", executor=DirectToolExecutor(), hooks=_DuckHooks())
    assert asyncio.run(agent.run("x")).output_text == "ok"


# --- what a custom store and a port of the guide call directly ----------------------------------
@FUZZ
@given(storage_key=ANY, plaintext=ANY | st.binary(max_size=8))
def test_key_ring_seal_and_open_with_any_key_are_envelopes_or_token_storage_errors(
    storage_key: Any, plaintext: Any
) -> None:
    """``ring.encrypt(5, b"x")`` raised ``AttributeError`` (``5.encode``), a lone surrogate
    ``UnicodeEncodeError``, a str plaintext cryptography's ``TypeError``; ``seal_token(key, {})``
    ``AttributeError`` (``to_storage_json``)."""
    ring = KeyRing.generate()
    try:
        envelope = ring.encrypt(storage_key, plaintext)
    except TokenStorageError:
        pass
    else:
        assert ring.decrypt(storage_key, envelope) == bytes(plaintext)
    with pytest.raises(TokenStorageError):
        ring.seal_token("k", {"access_token": "x"})  # type: ignore[arg-type]
    with contextlib.suppress(TokenStorageError):  # TokenDecryptionError for a text key: no envelope
        ring.decrypt(storage_key, "v1:x:y")


@FUZZ
@given(options=ANY, method=st.sampled_from(["generate", "stream_generate"]), model=ANY)
def test_a_provider_called_with_anything_raises_ours(options: Any, method: str, model: Any) -> None:
    """``provider.generate(5)`` raised ``AttributeError`` (``options.model``), as did
    ``provider.get_model_capabilities(None)`` (``None.split``)."""
    provider = OpenAITextProvider({"api_key": KEY, "base_url": "http://127.0.0.1:9/v1", "max_retries": 0})

    async def call() -> Any:
        if method == "generate":
            return await provider.generate(options)
        return await provider.stream_generate(options).__anext__()

    with pytest.raises((OneRingAIError, ValueError)) as caught:  # no server on port 9: at best a ProviderError
        asyncio.run(call())
    # a mapping is read as the options (pydantic's ValidationError naming the fields, a ValueError)
    assert isinstance(caught.value, ProviderError | OptionsTypeError) or isinstance(options, dict)
    try:
        capabilities = provider.get_model_capabilities(model)
    except ModelNotFoundError:
        return
    assert capabilities.max_output_tokens > 0


@FUZZ
@given(name=ANY | st.just(["a"]) | st.just("n" * 100_000))
def test_client_oauth_of_any_name_is_a_config_error(name: Any) -> None:
    """``client.oauth(["a"])`` raised ``TypeError`` (unhashable); a 100,000-character name was
    quoted twice in full."""
    client = OneRingAI()
    with pytest.raises(ConfigError) as caught:
        client.oauth(name)
    assert len(str(caught.value)) < 600


@FUZZ
@given(definition=ANY | st.fixed_dictionaries({"type": st.just("function"), "function": st.just({"name": "t"})}))
def test_a_tool_whose_definition_is_no_definition_is_refused_when_registered(definition: Any) -> None:
    """A ``Tool`` whose ``definition`` returned the guide's object literal (or ``5``) was
    registered with an ``AttributeError`` (``definition.function``) from ``agents.create`` and
    ``client.tools.register``."""

    class Literal(Tool):
        @property
        def definition(self) -> Any:
            return definition

        async def execute(self, arguments: Any) -> Any:
            return "done"

    client = OneRingAI(providers={"fake": ScriptedTextProvider(["hi"])})
    with pytest.raises(ToolDefinitionError, match="FunctionToolDefinition"):
        client.tools.register(Literal())
    with pytest.raises(ToolDefinitionError, match="FunctionToolDefinition"):
        client.agents.create(model="m", tools=[Literal()])


@FUZZ
@given(limit=st.sampled_from(["max_argument_chars", "max_argument_depth", "max_output_chars"]), value=ANY)
def test_direct_executor_limits_of_any_value_are_limits_or_a_config_error(limit: str, value: Any) -> None:
    """``DirectToolExecutor(max_output_chars="x")`` was accepted and every call then raised
    ``TypeError`` out of the executor that never raises."""
    try:
        executor = DirectToolExecutor(**{limit: value})
    except ConfigError as error:
        assert limit in str(error)
        return
    call = ToolCall(id="c1", function=ToolCallFunction(name="_add", arguments='{"a": 1}'))
    result = asyncio.run(executor.execute_tool(call, ToolExecutionContext(tools=[tool(_add)])))
    assert isinstance(result, ToolResult)


@FUZZ
@given(input=ANY, tools=ANY, stream=st.booleans())
def test_generate_with_any_input_and_tools_answers_or_raises_ours(input: Any, tools: Any, stream: bool) -> None:
    """``text.generate(5)`` and ``tools=object()`` raised Python's "'int' object is not iterable"
    from ``build_options``; now ``SchemaError`` (a ``TypeError``), or pydantic's ``ValidationError``
    naming the field for an iterable of the wrong things, as before."""
    client = OneRingAI(providers={"fake": ScriptedTextProvider(["hi"], repeat_last=True)})

    async def call() -> Any:
        if stream:
            return [event async for event in client.text.stream(input, model="m", tools=tools)]
        return await client.text.generate(input, model="m", tools=tools)

    with contextlib.suppress(OneRingAIError, ValueError):  # ours, or pydantic's ValidationError of the options
        asyncio.run(call())


@FUZZ
@given(user_id=ANY, roles=ANY | st.lists(st.text(max_size=4), max_size=2) | st.just([[1]]))
def test_who_runs_an_agent_is_checked_when_it_is_built(user_id: Any, roles: Any) -> None:
    """``user_id=5`` failed the first model call with pydantic's error about ``metadata.user_id``;
    ``roles=5`` / ``roles=[[1]]`` raised Python's "not iterable" / "unhashable type"."""
    try:
        agent = _agents().create(model="m", user_id=user_id, roles=roles)
    except AgentLimitError as error:
        assert "user_id" in str(error) or "roles" in str(error)
        return
    assert asyncio.run(agent.run("hello")).output_text == "hi"
    assert all(isinstance(role, str) for role in agent.roles)


@FUZZ
@given(executor=ANY)
def test_an_agent_executor_that_is_no_executor_is_refused_when_built(executor: Any) -> None:
    """``agents.create(executor=5)`` ran; every tool call was answered to the model with
    "AttributeError: 'int' object has no attribute 'execute_tool'"."""
    client = OneRingAI(providers={"fake": ScriptedTextProvider([scripted_call("_add", a=1), "done"])})
    try:
        agent = client.agents.create(model="m", tools=[_add], executor=executor)
    except ConfigError as error:
        assert "executor" in str(error)
        return
    assert not executor  # None, 0, "", []: agents.create keeps the configured executor, as before
    assert asyncio.run(agent.run("x")).output_text == "done"
