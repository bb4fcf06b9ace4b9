"""An MCP server's tool as an ordinary ``Tool``: name, description, JSON schema, validate, execute.

* The name the model sees is ``tool_prefix + name``, made to fit ``[A-Za-z0-9_.-]{1,64}``
  (anything else becomes ``_``; a long name is cut and keeps a short hash so it stays unique).
  Calls use the server's own name.
* Arguments are checked against the tool's ``inputSchema`` before anything is sent: a model
  that violates the schema gets an ``invalid_arguments`` result and the server never sees it.
  Regular expressions (``pattern``, ``patternProperties``) and ``$ref``s that do not resolve are
  left to the server (``_schema.py`` says why).
* The result is the structured content when the server gave one, else the text of the content
  blocks (other blocks are described, not inlined), cut at ``max_output_chars``. A result the
  server marked ``isError`` raises ``ToolExecutionError`` — an error result for the model.
* Only tools the server marks ``readOnlyHint`` are cacheable by a ``cache`` executor layer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from oneringai.domain.errors import ToolExecutionError
from oneringai.domain.tools import FunctionDefinition, FunctionToolDefinition, Tool
from oneringai.infrastructure.mcp._schema import checkable_schema
from oneringai.infrastructure.mcp.session import McpSession

__all__ = ["McpTool", "render_result", "tool_name_for"]

_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_NAME = 64
_MAX_DESCRIPTION = 4096
_MAX_PROBLEMS = 5


def tool_name_for(prefix: str, name: str) -> str:
    """The model-facing name of a server's tool ``name``."""
    cleaned = _INVALID.sub("_", prefix + name) or "_"
    if len(cleaned) <= _MAX_NAME and cleaned == prefix + name:
        return cleaned
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{cleaned[: _MAX_NAME - 9]}_{digest}"


def _parameters(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
        return {"type": "object", "properties": {}}
    parameters = dict(schema)
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    return parameters


class McpTool(Tool):
    """Built by ``McpServerRegistry.tools(server)`` from the SDK's ``Tool`` model."""

    def __init__(self, session: McpSession, spec: Any) -> None:
        self.session = session
        self.server_tool_name: str = spec.name
        annotations = getattr(spec, "annotations", None)
        self.cacheable = bool(getattr(annotations, "read_only_hint", False))
        description = (spec.description or getattr(spec, "title", None) or "").strip()
        self._definition = FunctionToolDefinition(
            function=FunctionDefinition(
                name=tool_name_for(session.settings.tool_prefix, spec.name),
                description=description[:_MAX_DESCRIPTION],
                parameters=_parameters(spec.input_schema),
            )
        )
        self._validator: Any = None

    @property
    def definition(self) -> FunctionToolDefinition:
        return self._definition

    @property
    def server(self) -> str:
        return self.session.name

    def validate_arguments(self, arguments: Any) -> Mapping[str, Any]:
        if not isinstance(arguments, Mapping):
            raise ValueError("arguments must be a JSON object")
        validator = self._schema_validator()
        if validator is None:
            return arguments
        try:
            problems = sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.absolute_path))
        except RecursionError:
            raise ValueError("arguments are nested too deeply") from None
        except Exception:  # a ``$ref`` the schema cannot resolve (remote, or pointing nowhere)
            self._validator = False  # the schema cannot be applied here: the server judges
            return arguments
        if problems:
            described = "; ".join(
                f"{'.'.join(str(p) for p in problem.absolute_path) or 'arguments'}: {problem.message[:200]}"
                for problem in problems[:_MAX_PROBLEMS]
            )
            raise ValueError(f"invalid arguments: {described}")
        return arguments

    def _schema_validator(self) -> Any:
        """A compiled validator for the input schema; ``False`` when the schema itself is invalid
        (then the server is left to judge the arguments)."""
        if self._validator is None:
            try:
                from jsonschema import validators
                from jsonschema.exceptions import SchemaError

                schema = self._definition.function.parameters
                cls = validators.validator_for(schema)
                cls.check_schema(schema)
                self._validator = cls(checkable_schema(schema))
            except ImportError:  # the mcp extra brings jsonschema; without it the server validates
                self._validator = False
            except (SchemaError, RecursionError, TypeError, ValueError):
                self._validator = False
        return self._validator or None

    async def execute(self, arguments: Mapping[str, Any]) -> Any:
        result = await self.session.call_tool(self.server_tool_name, dict(arguments))
        return render_result(result, self.session.settings.max_output_chars, tool_name=self.name)

    def __repr__(self) -> str:
        return f"McpTool({self.name!r}, server={self.server!r})"


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} {getattr(block, 'mime_type', '')}, {len(getattr(block, 'data', '') or '')} base64 chars]"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        return str(text) if text is not None else f"[resource {resource.uri}]"
    if kind == "resource_link":
        return f"[resource {getattr(block, 'uri', '')}]"
    return f"[{kind} content]"


def render_result(result: Any, max_chars: int, *, tool_name: str | None = None) -> Any:
    """What the model reads from a ``CallToolResult``; raises for a result marked ``isError``."""
    text = "\n".join(_block_text(block) for block in (result.content or []))
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[output cut at {max_chars} characters]"
    if result.is_error:
        raise ToolExecutionError(text or "the MCP tool reported an error", tool_name=tool_name)
    structured = result.structured_content
    if structured is not None and len(json.dumps(structured, default=str)) <= max_chars:
        return structured
    return text
