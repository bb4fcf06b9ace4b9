"""The ``oneringai`` command.

Every bad input — an argument, a configuration file, an environment variable — prints one line
and exits 2; a runtime failure (a provider or backend unreachable) prints one line and exits 1.
No error of ours prints a traceback; an unexpected one prints one line too, and its traceback
only with ``ONERINGAI_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

from oneringai.domain.errors import (
    ConfigError,
    OneRingAIError,
    ProviderAuthError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

__all__ = ["main"]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def _number(low: float, high: float | None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            bound = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text!r}")
        return value

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        help="YAML file (default: $ONERINGAI_CONFIG, ./config/default.yaml, ./oneringai.yaml, "
        "else the packaged defaults)",
    )
    parser.add_argument("--profile", "-p", help="profile file beside it, e.g. local, production")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oneringai")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        from oneringai import __version__

        return __version__


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="oneringai", description="oneringai command line")
    parser.add_argument("--version", action="version", version=f"oneringai {_version()}")
    # also before the command (``oneringai --config f.yaml config show``); the command's own wins
    parser.add_argument("--config", "-c", dest="global_config", metavar="CONFIG", help="as the commands' --config")
    parser.add_argument("--profile", "-p", dest="global_profile", metavar="PROFILE", help="as the commands' --profile")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="send one prompt and print the answer")
    chat.add_argument("prompt", help="the question or request, one argument (quote it)")
    _config_args(chat)
    chat.add_argument("--provider", help="a name under text.providers (default: text.default)")
    chat.add_argument("--model", "-m", help="model id (default: the provider's default_model)")
    chat.add_argument("--system", help="instructions (system prompt)")
    chat.add_argument("--max-tokens", type=_positive_int, default=None, help="a positive whole number")
    chat.add_argument("--temperature", type=_number(0, 2), default=None, help="from 0 to 2")
    chat.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True,
                      help="print the answer as it comes (default) or all at once")

    config = sub.add_parser("config", help="show or validate the configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    for name, text in (
        ("show", "print the files read and the resolved configuration (secrets redacted)"),
        ("validate", "check the configuration and what using it will need"),
    ):
        _config_args(config_sub.add_parser(name, help=text))
    config_sub.add_parser("docs", help="print the configuration reference (Markdown)")

    doctor = sub.add_parser("doctor", help="check every configured backend; fail on those in use")
    _config_args(doctor)

    from oneringai.cli.tokens import add_token_commands

    add_token_commands(sub, _config_args)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from oneringai.config.loading import load_configuration

    return load_configuration(args.config, profile=args.profile)


def _hint(error: ProviderError, provider: str | None) -> str:
    if isinstance(error, ProviderAuthError):
        return "set the provider's api_key (an ${ENV_VAR} reference) or pick another provider with --provider"
    if isinstance(error, ProviderUnavailableError | ProviderTimeoutError):
        if provider == "ollama":
            return "start Ollama (`ollama serve`), set OLLAMA_HOST, pick another provider with --provider, or try --profile local"
        return "check the server is running and base_url is right, or pick another provider with --provider"
    return ""


async def _chat(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from oneringai.client import OneRingAI

    settings = _load(args).settings
    providers = settings.text.providers
    if args.provider is not None and args.provider not in providers:
        raise ConfigError(
            f"--provider {args.provider!r} is not configured (configured under text.providers: "
            f"{', '.join(sorted(providers)) or 'none'})"
        )
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
        except ValidationError as exc:  # an option the request model refuses
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "request"
            raise ConfigError(f"invalid option {where}: {first['msg']}") from None
        except ValueError as exc:  # no model configured, for one
            raise ConfigError(str(exc).replace("pass model=...", "pass --model")) from None
        except ProviderError as exc:
            name = args.provider or settings.text.default
            config = providers.get(name or "")
            managed = config is not None and config.kind == "llamacpp" and not config.base_url
            hint = "" if managed else _hint(exc, config.kind if config is not None else name)  # its error says all
            print(_one_line(f"error: {exc}{' — ' + hint if hint else ''}"), file=sys.stderr)
            return 1
    return 0


def _config_show(args: argparse.Namespace) -> int:
    import yaml

    from oneringai.config.display import redacted_view

    loaded = _load(args)
    for line in loaded.describe():
        print(f"# {line}")
    print(yaml.safe_dump(redacted_view(loaded.settings), sort_keys=False, allow_unicode=True).rstrip())
    return 0


def _config_validate(args: argparse.Namespace) -> int:
    from oneringai.config.checks import usage_findings

    loaded = _load(args)
    settings = loaded.settings
    findings = usage_findings(settings)
    errors = [str(f) for f in findings if f.level == "error"]
    warnings = [str(f) for f in findings if f.level == "warning"]
    if errors:  # one line, everything that needs fixing in it
        raise ConfigError("; ".join(errors) + (f" (warnings: {'; '.join(warnings)})" if warnings else ""))
    for line in loaded.describe():
        print(line)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    providers = ", ".join(f"{n} ({p.kind})" for n, p in settings.text.providers.items()) or "none"
    print(
        f"configuration is valid: text providers: {providers}; default: {settings.text.default or 'none'}; "
        f"token storage: {settings.oauth.storage.kind}"
    )
    return 0


def _run(coro_factory: Callable[[], Awaitable[int]]) -> int:
    return asyncio.run(coro_factory())  # type: ignore[arg-type]


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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

        loaded = _load(args)
        return _run(lambda: doctor(loaded.settings, loaded=loaded))
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args) or 0)
    parser.print_help()
    return 2


def _setup_logging() -> None:
    import logging
    import os

    level = os.environ.get("ONERINGAI_LOG_LEVEL", "ERROR").upper()
    if not isinstance(logging.getLevelName(level), int):
        level = "ERROR"
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    progress = logging.getLogger("oneringai.progress")  # long work shows what it is doing
    if progress.getEffectiveLevel() > logging.INFO:
        progress_handler = logging.StreamHandler()
        progress_handler.setFormatter(logging.Formatter("… %(message)s"))
        progress.addHandler(progress_handler)
        progress.setLevel(logging.INFO)
        progress.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    _setup_logging()
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("config", "profile"):
        given = getattr(args, f"global_{name}", None)
        if given is not None and getattr(args, name, None) is None and hasattr(args, name):
            setattr(args, name, given)
    try:
        return _dispatch(parser, args)
    except ConfigError as exc:
        print(_one_line(f"config error: {exc}"), file=sys.stderr)
        return 2
    except OneRingAIError as exc:
        print(_one_line(f"error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `oneringai config show | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as exc:  # a bug of ours: one line; the traceback with ONERINGAI_LOG_LEVEL=DEBUG
        from oneringai.domain.redaction import get_logger, redact

        get_logger("oneringai.cli").debug("unexpected error", exc_info=True)
        shown = redact(_one_line(str(exc)))[:300]
        print(
            f"error: unexpected {type(exc).__name__}: {shown} — please report it "
            f"(ONERINGAI_LOG_LEVEL=DEBUG shows the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
