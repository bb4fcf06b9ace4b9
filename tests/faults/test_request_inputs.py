"""Request inputs checked where they enter (2026-11-30).

The free-form values a caller gives one request — ``provider_options``, a ``response_format``
JSON schema, a tool's ``parameters``, ``metadata`` — went into the vendor's JSON body as they
were: a set, bytes, an object, a structure containing itself or nested 10**6 deep was a raw
``TypeError`` / ``ValueError`` / ``RecursionError`` from the JSON encoder at the model call, and
NaN or infinity was sent as ``NaN`` (invalid JSON). Now each is plain JSON data or a
``RequestOptionsError`` (a ``OneRingAIError`` and a ``ValueError``) naming the key path, never
quoting the value, raised before anything is sent; a value changed in place after it was checked
(a hook) is caught when the body is encoded. A tool's return value of any type becomes text the
model reads. Against loopback vendor-shaped servers, on both HTTP transports.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import OneRingAIError, RequestOptionsError, TextGenerateOptions, tool
from oneringai.application.agents import Agent, AgentHooks
from oneringai.application.tools import DirectToolExecutor, FunctionTool
from oneringai.domain.content import Message
from oneringai.domain.tools import FunctionDefinition, FunctionToolDefinition
from oneringai.infrastructure.providers._http_calls import encode_body
from oneringai.infrastructure.providers._openai_mapping import arguments_object, build_chat_request
from oneringai.testing import ScriptedTextProvider
from oneringai.testing.fakes import tool_call
from tests.faults.agent_vendors import ScriptedVendor, answered, turn
from tests.faults.providers_fixtures import KINDS, TRANSPORTS
from tests.faults.test_agents_client_e2e import client_for

SECRET_VALUE = "sk-never-quoted-0123456789abcdef"


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _cycle() -> dict[str, Any]:
    value: dict[str, Any] = {"secret": SECRET_VALUE}
    value["self"] = value
    return value


class Opaque:
    def __repr__(self) -> str:
        return SECRET_VALUE


#: (provider_options, what the message says)
HOSTILE: list[tuple[Any, str]] = [
    ({"x": {1, 2}}, r"provider_options\['x'\] is a set"),
    ({"x": [SECRET_VALUE, b"raw"]}, r"provider_options\['x'\]\[1\] is a bytes"),
    ({"x": {"y": math.nan}}, r"provider_options\['x'\]\['y'\] is not a finite number"),
    ({"x": -math.inf}, r"provider_options\['x'\] is not a finite number"),
    ({"x": Opaque()}, r"provider_options\['x'\] is a Opaque"),
    (_cycle(), "nested deeper than 64 levels"),
    (_deep(10**6), "nested deeper than 64 levels"),
    ({1: SECRET_VALUE}, "has a key that is not a string"),
    ({"x": {("t",): 1}}, r"provider_options\['x'\] has a key that is not a string"),
    ({"x": 10**400}, "integer beyond"),
    ({"x": "y" * 1_000_001}, "longer than 1000000 characters"),
    (SECRET_VALUE, "must be a mapping"),
]
IDS = ["set", "bytes", "nan", "inf", "object", "cycle", "deep-1e6", "int-key", "tuple-key", "huge-int", "huge", "str"]


def _check(error: BaseException) -> None:
    assert isinstance(error, RequestOptionsError) and isinstance(error, OneRingAIError)
    assert isinstance(error, ValueError)  # what a caller catching pydantic's errors catches
    text = str(error) + repr(error)
    assert SECRET_VALUE not in text and "raw" not in text and len(str(error)) < 400


def _serving(kind: str = "openai") -> ScriptedVendor:
    return ScriptedVendor(kind, lambda n, body: turn(kind, stream=bool(body.get("stream")), text="ok"))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_hostile_provider_options_of_one_request_are_a_typed_error_and_nothing_is_sent(transport):
    vendor = _serving()
    await vendor.server.start()
    try:
        async with client_for("openai", vendor.url, transport) as client:
            for options, where in HOSTILE:
                with pytest.raises(RequestOptionsError, match=where) as raised:
                    await client.text.generate("hi", model="m", provider_options=options)
                _check(raised.value)
                with pytest.raises(RequestOptionsError, match=where):  # the guide's options object too
                    await client.text.generate("hi", {"model": "m", "providerOptions": options})
                with pytest.raises(RequestOptionsError, match=where):
                    async for _ in client.text.stream("hi", model="m", provider_options=options):
                        pass
            assert vendor.bodies == []
            # and the client goes on: usable options reach the body as given
            assert await client.text.generate("hi", model="m", provider_options={"seed": 7, "x": [1, "a", None]}) == "ok"
            assert await client.text.generate("hi", model="m", provider_options=None) == "ok"
    finally:
        await vendor.server.stop()
    assert vendor.bodies[0]["seed"] == 7 and vendor.bodies[0]["x"] == [1, "a", None]


@pytest.mark.parametrize("index", range(len(HOSTILE)), ids=IDS)
def test_the_domain_model_checks_them_where_they_enter(index):
    options, where = HOSTILE[index]
    with pytest.raises(RequestOptionsError, match=where) as raised:
        TextGenerateOptions(model="m", input="hi", provider_options=options)
    _check(raised.value)
    with pytest.raises(RequestOptionsError, match=where):
        TextGenerateOptions.model_validate({"model": "m", "input": "hi", "providerOptions": options})


def test_the_request_keeps_its_own_copy_and_tuples_become_lists():
    given_options: dict[str, Any] = {"a": {"b": (1, 2)}}
    options = TextGenerateOptions(model="m", input="hi", provider_options=given_options)
    given_options["a"]["b"] = {1}  # changed after it was checked: not the request's
    assert options.provider_options == {"a": {"b": [1, 2]}}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_a_value_changed_in_place_after_the_check_is_caught_when_the_body_is_encoded(transport, streaming):
    """A ``before_model`` hook writes a set and a NaN into the checked options: the encoder's
    ``TypeError``/NaN became a ``RequestOptionsError`` naming the body path; nothing is sent."""
    vendor = _serving()

    def before_model(options: TextGenerateOptions) -> TextGenerateOptions:
        options.provider_options["nested"] = {"tags": {"a"}}
        return options

    def nan_hook(options: TextGenerateOptions) -> TextGenerateOptions:
        options.provider_options["temperature_bias"] = math.nan
        return options

    await vendor.server.start()
    try:
        async with client_for("openai", vendor.url, transport) as client:
            for hook, where in ((before_model, r"body\['nested'\]\['tags'\] is a set"),
                                (nan_hook, r"body\['temperature_bias'\] is not a finite number")):
                agent = client.agents.create(provider="p", model="m", hooks=AgentHooks(before_model=hook))
                with pytest.raises(RequestOptionsError, match=where) as raised:
                    if streaming:
                        async for _ in agent.stream("hi"):
                            pass
                    else:
                        await agent.run("hi")
                _check(raised.value)
                assert "request to provider 'p' (model 'm')" in str(raised.value)
    finally:
        await vendor.server.stop()
    assert vendor.bodies == []


@pytest.mark.parametrize("kind", KINDS)
async def test_json_schemas_of_response_formats_are_checked(kind):
    vendor = _serving(kind)
    await vendor.server.start()
    try:
        async with client_for(kind, vendor.url, "aiohttp") as client:
            schemas = (({"type": "object", "enum": {1, 2}}, r"schema\['enum'\] is a set"),
                       ({"type": "number", "maximum": math.nan}, r"schema\['maximum'\] is not a finite"),
                       (_deep(500), "nested deeper than 128"))
            for schema, where in schemas:
                with pytest.raises(RequestOptionsError, match=where) as raised:
                    await client.text.generate_json("hi", model="m", schema=schema)
                _check(raised.value)
    finally:
        await vendor.server.stop()
    assert vendor.bodies == []


def test_tool_parameter_schemas_are_checked_when_the_tool_is_defined():
    def add(a: int) -> int:
        return a

    cases = (({"type": "object", "properties": {"a": {"enum": {1}}}}, r"tool 'add': parameters\['properties'\]\['a'\]\['enum'\] is a set"),
             ({"type": "object", "default": math.inf}, r"parameters\['default'\] is not a finite"),
             ({"type": "object", 1: "x"}, "parameters has a key that is not a string"),
             (_cycle(), "nested deeper than 128"))
    for schema, where in cases:
        with pytest.raises(RequestOptionsError, match=where) as raised:
            FunctionTool(add, parameters=schema)
        _check(raised.value)
        with pytest.raises(RequestOptionsError, match=where):
            FunctionToolDefinition(function={"name": "add", "parameters": schema})
        with pytest.raises(RequestOptionsError, match=where):
            TextGenerateOptions(model="m", input="hi", tools=[{"function": {"name": "add", "parameters": schema}}])
    with pytest.raises(RequestOptionsError, match="must be a mapping"):
        FunctionDefinition(name="add", parameters=[1, 2])  # type: ignore[arg-type]


def test_metadata_is_strings_to_strings_and_the_error_quotes_no_value():
    for metadata, where in (({"a": {1}}, r"metadata\['a'\] is a set"), ({"a": 1}, r"metadata\['a'\] is a int"),
                            ({1: SECRET_VALUE}, "key that is not a string"), (SECRET_VALUE, "must be a mapping")):
        with pytest.raises(RequestOptionsError, match=where) as raised:
            TextGenerateOptions(model="m", input="hi", metadata=metadata)
        _check(raised.value)
    assert TextGenerateOptions(model="m", input="hi", metadata={"user": "u1"}).metadata == {"user": "u1"}


def test_ollama_model_options_that_are_no_mapping_are_a_typed_error():
    """``provider_options={"options": [...]}`` was ``dict.update(list)``: a raw ``TypeError``."""
    from oneringai.infrastructure.providers.ollama import OllamaTextProvider

    provider = OllamaTextProvider({"base_url": "http://127.0.0.1:9"})
    for value in ([1, 2], "num_ctx=4096", 3):
        options = TextGenerateOptions(model="m", input="hi", provider_options={"options": value})
        with pytest.raises(RequestOptionsError, match=r"provider_options\['options'\]"):
            _run(provider._body(options, stream=False))


def _run(awaitable: Any) -> Any:
    return asyncio.run(awaitable)


def test_a_model_writing_nan_in_tool_arguments_leaves_no_nan_in_the_next_request():
    """Python's JSON reads ``NaN``: the arguments went back to Anthropic/Ollama as ``NaN``
    (invalid JSON); now they count as unusable, like any invalid JSON (``{}``)."""
    assert arguments_object('{"x": NaN}') is None and arguments_object('{"x": -Infinity}') is None
    assert arguments_object('{"x": 1.5}') == {"x": 1.5}


# --- a tool returning anything -----------------------------------------------------------------

class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


def _returns(value: Any) -> Any:
    @tool(name="odd")
    def odd() -> Any:
        """Returns an odd value."""
        return value

    return odd


ODD_OUTPUTS = {"set": {1, 2}, "bytes": b"\xff\x00", "object": Opaque(), "nan": {"x": math.nan}, "inf": math.inf,
               "cycle": _cycle(), "deep": _deep(10_000), "unprintable": Unprintable(), "surrogate": "\ud800",
               "frozenset-in-list": [frozenset({"a"})]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_tool_returning_a_non_json_value_becomes_text_the_model_reads(kind, transport):
    """Each odd return value: the run completes, the tool result reaches the vendor as text in
    a valid JSON body (no ``NaN``), and the model answers."""

    def script(number: int, body: dict[str, Any]) -> Any:
        stream = bool(body.get("stream"))
        if answered(kind, body):
            return turn(kind, stream=stream, text="done")
        return turn(kind, stream=stream, calls=((f"c{number}", "odd", "{}"),))

    vendor = ScriptedVendor(kind, script)
    await vendor.server.start()
    try:
        async with client_for(kind, vendor.url, transport) as client:
            for value in ODD_OUTPUTS.values():
                agent = client.agents.create(provider="p", model="m", tools=[_returns(value)])
                response = await agent.run("call it")
                assert response.output_text == "done"
    finally:
        await vendor.server.stop()
    assert len(vendor.bodies) == 2 * len(ODD_OUTPUTS)
    for body in vendor.bodies:
        json.dumps(body, allow_nan=False)  # the vendor's parser read no NaN/Infinity


# --- property-based: only valid requests or typed errors --------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_anything = st.recursive(
    _json | st.binary(max_size=4) | st.sets(st.integers(), max_size=2) | st.frozensets(st.text(max_size=2), max_size=2)
    | st.tuples(st.integers()) | st.builds(Opaque) | st.integers(min_value=2**64 + 1, max_value=2**70)
    | st.complex_numbers(max_magnitude=2),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.integers() | st.none() | st.booleans(), inner, max_size=3),
    max_leaves=20,
)
_options = st.dictionaries(st.text(max_size=8) | st.sampled_from(["options", "keep_alive", "seed", "tools"]),
                           _anything, max_size=4) | _anything


def _bodies(options: TextGenerateOptions) -> list[Any]:
    """What each provider would send (built and encoded as the providers do, without a socket)."""
    from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
    from oneringai.infrastructure.providers.ollama import OllamaTextProvider

    anthropic = AnthropicTextProvider({"api_key": "k"})
    ollama = OllamaTextProvider({})
    return [build_chat_request(options, stream=False), anthropic._body(options, stream=True),
            _run(ollama._body(options, stream=False))]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_options)
def test_any_provider_options_make_a_valid_request_or_a_typed_error(value):
    try:
        options = TextGenerateOptions(model="m", input="hi", provider_options=value)
        bodies = _bodies(options)
    except RequestOptionsError as error:
        assert isinstance(error, OneRingAIError) and isinstance(error, ValueError)
        assert len(str(error)) < 400
        return
    expected = {} if value is None else json.loads(json.dumps(value, allow_nan=False))
    assert options.provider_options == expected
    for body in bodies:
        sent = json.loads(encode_body(body, "p", "m"))  # never raises: every value was JSON data
        json.dumps(sent, allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_anything)
def test_any_tool_output_makes_a_valid_next_request(value):
    """A tool returning anything: the agent's next request (as each provider builds and encodes
    it) is valid JSON holding the output as text; never a crash of the loop."""
    provider = ScriptedTextProvider([tool_call("odd", call_id="c1"), "done"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[_returns(value)])
    response = _run(agent.run("call it"))
    assert response.output_text == "done"
    follow_up = provider.requests[1]
    assert isinstance(follow_up.input, list) and all(isinstance(item, Message) for item in follow_up.input)
    for body in _bodies(follow_up):
        json.dumps(json.loads(encode_body(body, "p", "m")), allow_nan=False)


def test_the_encode_net_names_a_problem_deep_in_a_body_without_recursing():
    body = {"messages": [{"content": _deep(100_000)}], "x": {1}}
    with pytest.raises(RequestOptionsError, match="request to provider 'openai'") as raised:
        encode_body(body, "openai", "m")
    _check(raised.value)


def test_an_mcp_tool_whose_schema_is_no_json_data_is_left_out_and_the_others_stay(caplog):
    """A hostile MCP server's ``inputSchema`` with ``NaN`` (the SDK's JSON parser reads it) or
    nested past the bound: offered to a model, it failed every request (``NaN`` is invalid JSON).
    Now it is left out of the server's tools with a warning; its other tools are listed."""
    mcp_types = pytest.importorskip("mcp_types")
    from oneringai.infrastructure.mcp import McpServerSettings, McpSession
    from oneringai.infrastructure.mcp.registry import McpServerRegistry

    deep = '{"a":' * 140 + "1" + "}" * 140  # the SDK's parser stops near 200 levels
    specs = [mcp_types.Tool.model_validate_json(text) for text in (
        '{"name": "good", "inputSchema": {"type": "object", "properties": {"x": {"maximum": 3}}}}',
        '{"name": "nan", "inputSchema": {"type": "object", "properties": {"x": {"maximum": NaN}}}}',
        '{"name": "deep", "inputSchema": {"type": "object", "properties": ' + deep + "}}",
    )]
    session = McpSession("hostile", McpServerSettings(command=["true"]))
    with caplog.at_level("WARNING", logger="oneringai.mcp"):
        made = McpServerRegistry._usable("hostile", session, specs)
    assert [t.name for t in made] == ["good"]
    assert "not a finite number" in caplog.text and "nested deeper than 128" in caplog.text
