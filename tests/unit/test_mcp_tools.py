"""MCP tools as ordinary tools: names, schemas, argument checks and results from any server input
become valid values or our typed errors (property-based), and the ``client.tools`` facade."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from oneringai import ConfigError, OneRingAI, RequestOptionsError, ToolExecutionError, tool
from oneringai.application.tools_facade import ToolsFacade
from oneringai.config.loading import load_settings
from oneringai.domain.redaction import registered_secret_count
from oneringai.infrastructure.mcp import McpServerSettings, McpSession, McpTool, render_result, tool_name_for

mcp_types = pytest.importorskip("mcp_types")

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")  # \Z: "$" would accept a trailing newline
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
SESSION = McpSession("demo", McpServerSettings(command=["true"]))


def spec(name: str = "t", schema: Any = None, **extra: Any) -> Any:
    return mcp_types.Tool.model_validate({"name": name, "inputSchema": schema or {"type": "object"}, **extra})


@settings(max_examples=300, deadline=None)
@given(prefix=st.from_regex(r"[A-Za-z0-9_.-]{0,32}", fullmatch=True), name=st.text(min_size=1, max_size=200))
def test_every_server_tool_name_becomes_a_valid_unique_name(prefix: str, name: str) -> None:
    made = tool_name_for(prefix, name)
    assert NAME.match(made)
    if NAME.match(prefix + name):
        assert made == prefix + name  # valid names are kept as they are
    other = name + "x"
    assert tool_name_for(prefix, other) != made


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=st.dictionaries(st.sampled_from(["type", "properties", "required", "items", "pattern", "x"]), json_values),
       arguments=json_values)
def test_any_schema_and_any_arguments_validate_or_raise_value_error(schema: dict[str, Any], arguments: Any) -> None:
    try:
        made = McpTool(SESSION, spec("t", schema))
    except ValidationError:  # the SDK itself refused the listing: never reaches us
        assume(False)
        return
    except RequestOptionsError:  # infinity or a huge integer: no JSON request could carry it;
        return  # the registry leaves such a tool out (test_request_inputs.py)
    parameters = made.definition.function.parameters
    assert parameters["type"] == "object" and "properties" in parameters
    try:
        checked = made.validate_arguments(arguments)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(checked, dict)


def test_schema_violations_are_described_for_the_model() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
              "required": ["a"]}
    made = McpTool(SESSION, spec("add", schema, annotations={"readOnlyHint": True}))
    assert made.validate_arguments({"a": 1, "tags": ["x"]}) == {"a": 1, "tags": ["x"]}
    with pytest.raises(ValueError, match=r"tags\.0: 3 is not of type 'string'"):
        made.validate_arguments({"a": 1, "tags": [3]})
    with pytest.raises(ValueError, match="'a' is a required property"):
        made.validate_arguments({})
    assert made.cacheable is True  # readOnlyHint
    assert McpTool(SESSION, spec("write")).cacheable is False


def test_an_invalid_schema_leaves_judging_to_the_server() -> None:
    made = McpTool(SESSION, spec("odd", {"type": "object", "properties": {"a": {"type": "no-such-type"}}}))
    assert made.validate_arguments({"a": 1}) == {"a": 1}


blocks = st.lists(
    st.one_of(
        st.builds(lambda t: {"type": "text", "text": t}, st.text(max_size=300)),
        st.just({"type": "image", "data": "aGk=", "mimeType": "image/png"}),
        st.builds(lambda u: {"type": "resource_link", "uri": f"file:///{u}", "name": "r"}, st.text("abc", max_size=5)),
        st.just({"type": "resource", "resource": {"uri": "file:///x", "text": "inline"}}),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(content=blocks, structured=st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
       is_error=st.booleans(), max_chars=st.integers(1, 500))
def test_any_call_result_becomes_output_or_a_tool_error(content: list[Any], structured: Any, is_error: bool, max_chars: int) -> None:
    result = mcp_types.CallToolResult.model_validate(
        {"content": content, "structuredContent": structured, "isError": is_error}
    )
    try:
        output = render_result(result, max_chars, tool_name="t")
    except ToolExecutionError as exc:
        assert is_error and str(exc)
        return
    assert not is_error
    if isinstance(output, str):
        assert len(output) <= max_chars + 60
    else:
        assert output == structured and len(json.dumps(output)) <= max_chars


# Strings of at most 7 characters: header and env values are registered as secrets from 8 on, and
# thousands of random ones would fill the process-wide registry that other tests scrub with.
short_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=7)
    | st.sampled_from(["http://127.0.0.1/mcp", "ftp://x", "python"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(entry=st.dictionaries(
    st.sampled_from(["command", "url", "args", "env", "headers", "timeout", "tool_prefix", "cwd", "oauth_connection", "bogus"]),
    short_values, max_size=4))
def test_any_yaml_entry_is_a_server_or_a_config_error_naming_the_path(entry: dict[str, Any]) -> None:
    load_settings(env={}, dotenv=None)  # the defaults' own secrets, registered once
    before = registered_secret_count()
    try:
        loaded = load_settings(env={}, dotenv=None, overrides={"tools": {"mcp_servers": {"s": entry}}})
    except ConfigError as exc:
        assert "tools.mcp_servers.s" in str(exc)
    else:
        server = loaded.tools.mcp_servers["s"]
        assert (server.command is None) != (server.url is None)
    assert registered_secret_count() == before


def test_one_transport_per_server() -> None:
    with pytest.raises(ValidationError, match="exactly one of command"):
        McpServerSettings()
    with pytest.raises(ValidationError, match="exactly one of command"):
        McpServerSettings(command=["x"], url="http://127.0.0.1/mcp")
    with pytest.raises(ValidationError, match="apply to url servers"):
        McpServerSettings(command=["x"], headers={"a": "b"})
    assert McpServerSettings(command="server").command == ["server"]


# --- the facade ---------------------------------------------------------------------------------
class FakeSource:
    """Named groups of tools, recording how often each group was listed."""

    def __init__(self, groups: dict[str, list[Any]]) -> None:
        self.groups = groups
        self.listed: list[str] = []

    def names(self) -> list[str]:
        return sorted(self.groups)

    async def tools(self, name: str, *, refresh: bool = False) -> list[Any]:
        self.listed.append(name)
        return self.groups[name]


@tool
def lookup(order_id: str) -> dict[str, str]:
    """Status of an order."""
    return {"order_id": order_id, "status": "shipped"}


async def test_facade_registers_executes_and_refuses_clashes() -> None:
    client = OneRingAI()
    facade: ToolsFacade = client.tools
    facade.register(lookup)
    result = await facade.execute("lookup", {"order_id": "A1"})
    assert json.loads(result.output) == {"order_id": "A1", "status": "shipped"}
    assert (await facade.execute("lookup", {"order_id": object()})).metadata["code"] == "invalid_arguments"
    assert (await facade.execute("missing")).metadata["code"] == "unknown_tool"
    with pytest.raises(ConfigError, match=r"tools\.mcp_servers"):
        await facade.from_mcp("anything")  # none configured
    with pytest.raises(ValueError, match="already registered") as clash:
        facade.register(tool(lambda order_id: order_id, name="lookup"))
    assert isinstance(clash.value, ConfigError), "a typed error of ours, still a ValueError"
    await client.destroy()

    source = FakeSource({"a": [tool(lambda: 1, name="same")], "b": [tool(lambda: 2, name="same")]})
    facade = ToolsFacade(client.agents.executor, lambda: source)
    assert facade.mcp_servers == ["a", "b"]
    assert [t.name for t in await facade.from_mcp("a")] == ["same"]
    with pytest.raises(ConfigError, match="tool_prefix"):
        await facade.from_mcp("b")


@pytest.mark.parametrize(
    ("rules", "denied"),
    [
        ({"deny": ["delete_file"]}, True),  # docs/mcp.md's example: the server's own name
        ({"deny": ["files_delete_file"]}, True),  # the name the model sees
        ({"deny": ["Delete_File"]}, True),
        ({"users": {"u": {"deny": ["delete_file"]}}}, True),
        ({"allow": ["delete_file"]}, True),  # allow lists stay exact: the server's name admits nothing
        ({"allow": ["files_delete_file"]}, False),
        ({"deny": ["read_file"]}, False),
    ],
)
async def test_permission_lists_match_an_mcp_tool_by_its_server_name_too(rules: dict[str, Any], denied: bool) -> None:
    """docs/mcp.md configures ``permissions: {deny: [delete_file]}`` beside a server with
    ``tool_prefix: files_``: the deny matched only ``files_delete_file``, so the server's
    ``delete_file`` ran (a second black-box judge)."""
    from oneringai import IToolExecutor, ToolExecutionContext, ToolResult
    from oneringai.infrastructure.tool_executors.config import PermissionsExecutorConfig
    from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
    from oneringai.testing import tool_call

    ran: list[str] = []

    class Reached(IToolExecutor):
        async def execute_tool(self, call: Any, context: Any) -> ToolResult:
            ran.append(call.function.name)
            return ToolResult(tool_call_id=call.id, output="done")

    files = McpSession("files", McpServerSettings(command=["true"], tool_prefix="files_"))
    delete = McpTool(files, spec("delete_file"))
    assert delete.name == "files_delete_file"
    executor = PermissionToolExecutor(Reached(), PermissionsExecutorConfig.model_validate({"kind": "permissions", **rules}))
    context = ToolExecutionContext(tools=[delete], user_id="u")
    result = await executor.execute_tool(tool_call("files_delete_file", path="/"), context)
    assert (result.metadata.get("code") == "permission_denied") is denied
    assert ran == ([] if denied else ["files_delete_file"])
    approval = PermissionToolExecutor(
        Reached(), PermissionsExecutorConfig(require_approval=["delete_file"]), approve=lambda call, ctx: False
    )
    refused = await approval.execute_tool(tool_call("files_delete_file", path="/"), context)
    assert refused.metadata.get("code") == "not_approved"
