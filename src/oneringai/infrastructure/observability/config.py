"""Settings of the ``observability:`` YAML section."""

from __future__ import annotations

from pydantic import Field

from oneringai.domain._base import SettingsSection

__all__ = ["MAX_CONTENT_CHARS_LIMIT", "ObservabilitySettings"]

#: ``observability.max_content_chars`` at most: each captured message part is held and exported
#: on its span whole up to it (``10**12`` recorded every prompt whole).
MAX_CONTENT_CHARS_LIMIT = 1_000_000


class ObservabilitySettings(SettingsSection):
    """Spans and metrics after the OpenTelemetry GenAI semantic conventions.

    The kit depends on ``opentelemetry-api`` only: spans and metrics go to whatever SDK the
    application configured (the otel extra holds the SDK and the OTLP/HTTP
    exporter); with none configured they cost nothing and go nowhere.
    """

    tracing: bool = Field(
        default=False, description="spans: chat (per model call), execute_tool, invoke_agent, oauth refresh"
    )
    metrics: bool = Field(
        default=False, description="gen_ai.client.token.usage and gen_ai.client.operation.duration histograms"
    )
    capture_content: bool = Field(
        default=False,
        description="record prompts, completions, instructions and tool arguments/results on spans "
        "(scrubbed of secrets; may hold personal data)",
    )
    max_content_chars: int = Field(
        default=8192,
        ge=16,
        le=MAX_CONTENT_CHARS_LIMIT,
        description="longest text recorded per message part when capture_content is on (at most 1,000,000)",
    )
