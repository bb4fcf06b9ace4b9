import oneringai

DESIGN_NAMES = ["IProvider", "ITextProvider", "IImageProvider", "IToolExecutor", "IDisposable", "IAsyncDisposable", "IOAuthTokenStorage", "BaseProvider", "BaseTextProvider", "ProviderErrorMapper", "TextGenerateOptions", "ModelCapabilities", "ProviderCapabilities", "LLMResponse", "StreamEvent", "ToolCall", "ToolResult", "ToolExecutionContext", "StoredToken", "MessageRole", "ContentType", "OAuthManager", "TextManager", "AgentManager", "OneRingAI", "OneRingAIError", "ProviderAuthError", "ProviderRateLimitError", "ProviderContextLengthError", "ProviderTimeoutError", "ProviderUnavailableError", "ProviderResponseError", "ProviderNotFoundError", "ModelNotFoundError", "ConfigError", "TokenStorageError", "TokenDecryptionError", "OAuthError", "ToolExecutionError"]


def test_all_holds_every_design_name_and_resolves():
    for name in DESIGN_NAMES:
        assert name in oneringai.__all__, name
        assert getattr(oneringai, name) is not None
    assert not [n for n in oneringai.__all__ if n.startswith("_")]
    assert oneringai.__all__ == sorted(oneringai.__all__)


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
