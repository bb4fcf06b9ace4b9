"""What a caller asks a text provider for."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from oneringai.domain._guide_model import GuideModel
from oneringai.domain.content import InputItem
from oneringai.domain.tools import FunctionToolDefinition

__all__ = ["JSONSchemaFormat", "ResponseFormat", "TextGenerateOptions", "ToolChoice"]


class JSONSchemaFormat(GuideModel):
    name: str = "response"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool = True
    description: str | None = None

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


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
    camelCase (``maxOutputTokens``) is accepted.
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
