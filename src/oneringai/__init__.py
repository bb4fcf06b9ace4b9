"""oneringai — clean-architecture kit for LLM applications, composed by a DI container.

The domain names load eagerly (they are light); the facade, managers and
infrastructure load on first use so ``import oneringai`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oneringai.domain import (
    ConfigError,
    ContentType,
    ErrorEvent,
    FunctionDefinition,
    FunctionToolDefinition,
    IAsyncDisposable,
    IDisposable,
    IImageProvider,
    ImageGenerateOptions,
    ImageResponse,
    InputImageContent,
    InputItem,
    InputTextContent,
    IOAuthTokenStorage,
    IProvider,
    IterationCompleteEvent,
    ITextProvider,
    IToolExecutor,
    LLMResponse,
    LoginRequiredError,
    Message,
    MessageRole,
    ModelCapabilities,
    ModelNotFoundError,
    OAuthError,
    OneRingAIError,
    OutputTextContent,
    OutputTextDeltaEvent,
    ProviderAuthError,
    ProviderCapabilities,
    ProviderContextLengthError,
    ProviderError,
    ProviderNotFoundError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RedactedThinkingContent,
    RequestOptionsError,
    ResponseCompleteEvent,
    ResponseCreatedEvent,
    ResponseFormat,
    StoredToken,
    StreamEvent,
    TextGenerateOptions,
    ThinkingContent,
    TokenDecryptionError,
    TokenStorageError,
    Tool,
    ToolCall,
    ToolCallArgumentsDeltaEvent,
    ToolCallArgumentsDoneEvent,
    ToolCallStartEvent,
    ToolExecutionContext,
    ToolExecutionDoneEvent,
    ToolExecutionError,
    ToolExecutionStartEvent,
    ToolResult,
    ToolResultContent,
    ToolUseContent,
    Usage,
)

if TYPE_CHECKING:
    from oneringai.application.agents.agent import Agent
    from oneringai.application.agents.manager import AgentManager
    from oneringai.application.agents.support import AgentBusyError, AgentHooks, AgentLimitError
    from oneringai.application.image_manager import ImageManager
    from oneringai.application.oauth.manager import OAuthManager
    from oneringai.application.text_manager import TextManager
    from oneringai.application.tools import DirectToolExecutor, FunctionTool, ToolRegistry, tool
    from oneringai.application.tools.registry import DuplicateToolError
    from oneringai.client import OneRingAI
    from oneringai.config.loading import load_settings
    from oneringai.config.schema import Settings
    from oneringai.infrastructure.providers.base import BaseProvider, BaseTextProvider, KeyValidationResult
    from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper
    from oneringai.infrastructure.providers.model_registry import ModelRegistry
    from oneringai.infrastructure.token_storage.encryption import KeyRing
    from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__version__ = "0.1.0"

_LAZY = {
    "Agent": "oneringai.application.agents.agent",
    # errors and hooks an application using agents catches or passes (were importable only
    # from oneringai.application.*, while the docs named them)
    "AgentBusyError": "oneringai.application.agents.support",
    "AgentHooks": "oneringai.application.agents.support",
    "AgentLimitError": "oneringai.application.agents.support",
    "DuplicateToolError": "oneringai.application.tools.registry",
    "AgentManager": "oneringai.application.agents.manager",
    "BaseProvider": "oneringai.infrastructure.providers.base",
    "BaseTextProvider": "oneringai.infrastructure.providers.base",
    "DirectToolExecutor": "oneringai.application.tools",
    "FunctionTool": "oneringai.application.tools",
    "ImageManager": "oneringai.application.image_manager",
    "KeyRing": "oneringai.infrastructure.token_storage.encryption",
    "KeyValidationResult": "oneringai.infrastructure.providers.base",
    "ModelRegistry": "oneringai.infrastructure.providers.model_registry",
    "OAuthManager": "oneringai.application.oauth.manager",
    "OneRingAI": "oneringai.client",
    "ProviderErrorMapper": "oneringai.infrastructure.providers.error_mapper",
    "Settings": "oneringai.config.schema",
    "TextManager": "oneringai.application.text_manager",
    "ToolRegistry": "oneringai.application.tools",
    "load_settings": "oneringai.config.loading",
    "WrapperToolExecutor": "oneringai.infrastructure.tool_executors.wrapper",
    "tool": "oneringai.application.tools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'oneringai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Agent",
    "AgentBusyError",
    "AgentHooks",
    "AgentLimitError",
    "AgentManager",
    "BaseProvider",
    "BaseTextProvider",
    "ConfigError",
    "ContentType",
    "DirectToolExecutor",
    "DuplicateToolError",
    "ErrorEvent",
    "FunctionDefinition",
    "FunctionTool",
    "FunctionToolDefinition",
    "IAsyncDisposable",
    "IDisposable",
    "IImageProvider",
    "IOAuthTokenStorage",
    "IProvider",
    "ITextProvider",
    "IToolExecutor",
    "ImageGenerateOptions",
    "ImageManager",
    "ImageResponse",
    "InputImageContent",
    "InputItem",
    "InputTextContent",
    "IterationCompleteEvent",
    "KeyRing",
    "KeyValidationResult",
    "LLMResponse",
    "LoginRequiredError",
    "Message",
    "MessageRole",
    "ModelCapabilities",
    "ModelNotFoundError",
    "ModelRegistry",
    "OAuthError",
    "OAuthManager",
    "OneRingAI",
    "OneRingAIError",
    "OutputTextContent",
    "OutputTextDeltaEvent",
    "ProviderAuthError",
    "ProviderCapabilities",
    "ProviderContextLengthError",
    "ProviderError",
    "ProviderErrorMapper",
    "ProviderNotFoundError",
    "ProviderRateLimitError",
    "ProviderResponseError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RedactedThinkingContent",
    "RequestOptionsError",
    "ResponseCompleteEvent",
    "ResponseCreatedEvent",
    "ResponseFormat",
    "Settings",
    "StoredToken",
    "StreamEvent",
    "TextGenerateOptions",
    "TextManager",
    "ThinkingContent",
    "TokenDecryptionError",
    "TokenStorageError",
    "Tool",
    "ToolCall",
    "ToolCallArgumentsDeltaEvent",
    "ToolCallArgumentsDoneEvent",
    "ToolCallStartEvent",
    "ToolExecutionContext",
    "ToolExecutionDoneEvent",
    "ToolExecutionError",
    "ToolExecutionStartEvent",
    "ToolRegistry",
    "ToolResult",
    "ToolResultContent",
    "ToolUseContent",
    "Usage",
    "WrapperToolExecutor",
    "load_settings",
    "tool",
]
