import oneringai

DESIGN_NAMES = ["IProvider", "ITextProvider", "IImageProvider", "IToolExecutor", "IDisposable", "IAsyncDisposable", "IOAuthTokenStorage", "BaseProvider", "BaseTextProvider", "ProviderErrorMapper", "TextGenerateOptions", "ModelCapabilities", "ProviderCapabilities", "LLMResponse", "StreamEvent", "ToolCall", "ToolResult", "ToolExecutionContext", "StoredToken", "MessageRole", "ContentType", "OAuthManager", "TextManager", "AgentManager", "OneRingAI", "OneRingAIError", "ProviderAuthError", "ProviderRateLimitError", "ProviderContextLengthError", "ProviderTimeoutError", "ProviderUnavailableError", "ProviderResponseError", "ProviderNotFoundError", "ModelNotFoundError", "ConfigError", "TokenStorageError", "TokenDecryptionError", "OAuthError", "ToolExecutionError"]


def test_all_holds_every_design_name_and_resolves():
    for name in DESIGN_NAMES:
        assert name in oneringai.__all__, name
        assert getattr(oneringai, name) is not None
    assert not [n for n in oneringai.__all__ if n.startswith("_")]
    assert oneringai.__all__ == sorted(oneringai.__all__)


GUIDE_CONCEPTS = ["KeyValidationResult", "WrapperToolExecutor", "DirectToolExecutor", "ModelRegistry"]


def test_guide_concepts_are_exported_from_the_top_and_are_the_submodule_objects():
    from oneringai.application.tools.direct_executor import DirectToolExecutor
    from oneringai.infrastructure.providers.base import KeyValidationResult
    from oneringai.infrastructure.providers.model_registry import ModelRegistry
    from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

    expected = {"KeyValidationResult": KeyValidationResult, "WrapperToolExecutor": WrapperToolExecutor,
                "DirectToolExecutor": DirectToolExecutor, "ModelRegistry": ModelRegistry}
    for name in GUIDE_CONCEPTS:
        assert name in oneringai.__all__ and name in dir(oneringai), name
        assert getattr(oneringai, name) is expected[name], name


def test_lazy_exports_cover_every_non_domain_name_and_nothing_else():
    """``__all__`` is exactly the eager domain names plus ``_LAZY``; nothing lazy is loaded by
    ``import oneringai`` (infrastructure stays unimported until first use)."""
    import subprocess
    import sys

    eager = {n for n in oneringai.__all__ if n not in oneringai._LAZY}
    assert set(oneringai._LAZY) <= set(oneringai.__all__)
    import oneringai.domain as domain

    assert all(hasattr(domain, n) for n in eager), sorted(n for n in eager if not hasattr(domain, n))
    code = (
        "import sys, oneringai; "
        "print(','.join(m for m in sys.modules if m.startswith(('oneringai.infrastructure', 'oneringai.application'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_every_exported_name_resolves():
    for name in oneringai.__all__:
        getattr(oneringai, name)


def test_domain_imports_no_io_library():
    import subprocess
    import sys

    code = (
        "import sys, oneringai.domain; "
        "bad = [m for m in ('httpx', 'aiohttp', 'asyncpg', 'redis', 'aioboto3', 'dependency_injector') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_providers_module_exports_resolve():
    import oneringai.providers as built_in

    for name in built_in.__all__:
        cls = getattr(built_in, name)
        assert issubclass(cls, oneringai.BaseProvider), name
    assert built_in.OllamaProvider is built_in.OllamaTextProvider


def test_the_agent_errors_and_hooks_the_docs_name_are_exported():
    """docs/usage.md and the changelog name AgentLimitError, AgentBusyError, DuplicateToolError and
    AgentHooks; an application had to import them from ``oneringai.application.*``."""
    from oneringai.application.agents import AgentBusyError, AgentHooks, AgentLimitError
    from oneringai.application.tools.registry import DuplicateToolError

    for value in (AgentBusyError, AgentHooks, AgentLimitError, DuplicateToolError):
        assert value.__name__ in oneringai.__all__ and getattr(oneringai, value.__name__) is value
    assert issubclass(oneringai.AgentLimitError, oneringai.ConfigError)
