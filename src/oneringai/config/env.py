"""The environment as a configuration source: the ``ONERINGAI_`` prefix and the mapping
``load_settings`` was given (``.env`` merged under the process environment).

Shared by the schema (which reads it through pydantic-settings) and the loader (which
sets it for one validation), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic_settings import EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

__all__ = ["ENV_PREFIX", "MappingEnvSource", "reading_environment"]

ENV_PREFIX = "ONERINGAI_"

_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("oneringai_settings_env", default=None)


@contextmanager
def reading_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """Within the block, settings read ``environ`` instead of ``os.environ``."""
    token = _ENVIRONMENT.set(environ)
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)


class MappingEnvSource(EnvSettingsSource):
    """The environment source, reading the mapping given to ``reading_environment`` instead of
    ``os.environ`` — no global state is touched."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _ENVIRONMENT.get()
        if environ is None:
            return super()._load_env_vars()
        return parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)
