"""The ``oneringai`` command. Errors print one line and exit 2 (configuration) or 1 (runtime)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from oneringai.domain.errors import (
    ConfigError,
    OneRingAIError,
    ProviderAuthError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

__all__ = ["main"]


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", help="YAML file (default: $ONERINGAI_CONFIG or ./config/default.yaml)"
    )
    parser.add_argument("--profile", "-p", help="profile file beside it, e.g. local, production")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oneringai", description="oneringai command line")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="send one prompt and print the answer")
    chat.add_argument("prompt")
    _config_args(chat)
    chat.add_argument("--provider", help="a name under text.providers (default: text.default)")
    chat.add_argument("--model", "-m", help="model id (default: the provider's default_model)")
    chat.add_argument("--system", help="instructions (system prompt)")
    chat.add_argument("--max-tokens", type=int, default=None)
    chat.add_argument("--temperature", type=float, default=None)
    chat.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True)

    config = sub.add_parser("config", help="show or validate the configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    for name, text in (
        ("show", "print the resolved configuration (secrets redacted)"),
        ("validate", "check the configuration and say what is wrong"),
    ):
        _config_args(config_sub.add_parser(name, help=text))
    config_sub.add_parser("docs", help="print the configuration reference (Markdown)")

    doctor = sub.add_parser("doctor", help="check every configured backend can be reached")
    _config_args(doctor)

    from oneringai.cli.tokens import add_token_commands

    add_token_commands(sub, _config_args)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from oneringai.config.loading import load_settings

    return load_settings(args.config, profile=args.profile)


def _hint(error: ProviderError, provider: str | None) -> str:
    if isinstance(error, ProviderAuthError):
        return "set the provider's api_key (an ${ENV_VAR} reference) or pick another provider with --provider"
    if isinstance(error, ProviderUnavailableError | ProviderTimeoutError):
        if provider == "ollama":
            return "start Ollama (`ollama serve`), set OLLAMA_HOST, pick another provider with --provider, or try --profile local"
        return "check the server is running and base_url is right, or pick another provider with --provider"
    return ""


async def _chat(args: argparse.Namespace) -> int:
    from oneringai.client import OneRingAI

    settings = _load(args)
    async with OneRingAI(settings=settings) as client:
        kwargs: dict[str, Any] = {"provider": args.provider, "model": args.model}
        if args.system:
            kwargs["instructions"] = args.system
        if args.max_tokens:
            kwargs["max_output_tokens"] = args.max_tokens
        if args.temperature is not None:
            kwargs["temperature"] = args.temperature
        try:
            if args.stream:
                async for delta in client.text.stream_text(args.prompt, **kwargs):
                    sys.stdout.write(delta)
                    sys.stdout.flush()
                sys.stdout.write("\n")
            else:
                print(await client.text.generate(args.prompt, **kwargs))
        except ValueError as exc:  # no model configured, for one
            raise ConfigError(str(exc).replace("pass model=...", "pass --model")) from None
        except ProviderError as exc:
            name = args.provider or settings.text.default
            config = settings.text.providers.get(name or "")
            hint = _hint(exc, config.kind if config is not None else name)
            print(f"error: {exc}{' — ' + hint if hint else ''}", file=sys.stderr)
            return 1
    return 0


def _config_show(args: argparse.Namespace) -> int:
    import yaml

    settings = _load(args)
    data = settings.model_dump(mode="json", by_alias=True)
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())
    return 0


def _config_validate(args: argparse.Namespace) -> int:
    settings = _load(args)
    providers = ", ".join(f"{n} ({p.kind})" for n, p in settings.text.providers.items()) or "none"
    print(
        f"configuration is valid: text providers: {providers}; token storage: {settings.oauth.storage.kind}"
    )
    return 0


def _run(coro_factory: Callable[[], Awaitable[int]]) -> int:
    return asyncio.run(coro_factory())  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    import logging
    import os

    logging.basicConfig(
        level=os.environ.get("ONERINGAI_LOG_LEVEL", "ERROR").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    progress = logging.getLogger("oneringai.progress")  # long work shows what it is doing
    if progress.getEffectiveLevel() > logging.INFO:
        progress_handler = logging.StreamHandler()
        progress_handler.setFormatter(logging.Formatter("… %(message)s"))
        progress.addHandler(progress_handler)
        progress.setLevel(logging.INFO)
        progress.propagate = False
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "chat":
            return _run(lambda: _chat(args))
        if args.command == "config":
            if args.config_command == "docs":
                from oneringai.config.reference import configuration_markdown

                print(configuration_markdown(), end="")
                return 0
            return _config_show(args) if args.config_command == "show" else _config_validate(args)
        if args.command == "doctor":
            from oneringai.cli.doctor import doctor

            return _run(lambda: doctor(_load(args)))
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args) or 0)
        parser.print_help()
        return 2
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except OneRingAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `oneringai config show | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
