"""What a caller asks a text provider for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from oneringai.domain._error_base import RequestOptionsError
from oneringai.domain._guide_model import GuideModel
from oneringai.domain.content import InputItem
from oneringai.domain.json_data import MAX_SCHEMA_DEPTH, json_data
from oneringai.domain.tools import FunctionToolDefinition

__all__ = ["JSONSchemaFormat", "ResponseFormat", "TextGenerateOptions", "ToolChoice"]


class JSONSchemaFormat(GuideModel):
    name: str = "response"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool = True
    description: str | None = None

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    @field_validator("schema_", mode="before")
    @classmethod
    def _json_schema(cls, value: Any) -> Any:
        """Plain JSON data (see ``json_data``): a set or NaN in it was a raw ``TypeError`` or
        invalid JSON when the request was sent."""
        return json_data(value, name="response_format.json_schema.schema", max_depth=MAX_SCHEMA_DEPTH)


class ResponseFormat(GuideModel):
    """``text``, ``json_object`` (any JSON), or ``json_schema`` (JSON matching a schema)."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JSONSchemaFormat | None = None


#: ``auto`` / ``required`` / ``none``, or the name of one tool the model must call.
ToolChoice = Literal["auto", "required", "none"] | str


class TextGenerateOptions(GuideModel):
    """One generation request, independent of the provider that serves it.

    ``provider_options`` carries vendor knobs that have no neutral spelling
    (Ollama's ``num_ctx`` and ``keep_alive``, OpenAI's ``seed``, Anthropic's
    ``top_k``…); a provider ignores keys it does not know. Unknown top-level keys are errors;
    camelCase (``maxOutputTokens``) is accepted. ``provider_options``, ``metadata`` and a
    ``response_format`` JSON schema are checked here, where they enter: anything a JSON body
    cannot carry is a ``RequestOptionsError`` (a ``ValueError``) naming the key path.
    """

    model: str
    input: str | list[InputItem]
    instructions: str | None = None
    tools: list[FunctionToolDefinition] | None = None
    tool_choice: ToolChoice | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, gt=0)
    response_format: ResponseFormat | None = None
    parallel_tool_calls: bool | None = None
    stop: list[str] | None = None
    metadata: dict[str, str] | None = None
    provider_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("provider_options", mode="before")
    @classmethod
    def _provider_options(cls, value: Any) -> Any:
        """A copy made of plain JSON data, or a ``RequestOptionsError`` naming where (see
        ``json_data``); None is ``{}``. An empty dict costs one type check."""
        if type(value) is dict and not value:
            return value
        return json_data(value, name="provider_options")

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        """Strings to strings; anything else a ``RequestOptionsError`` naming the key (a pydantic
        error would quote the value)."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise RequestOptionsError(f"metadata must be a mapping of strings to strings, not {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise RequestOptionsError(f"metadata has a key that is not a string ({type(key).__name__})")
            if not isinstance(item, str):
                raise RequestOptionsError(f"metadata[{key[:40]!r}] is a {type(item).__name__}, not a string")
        return value
