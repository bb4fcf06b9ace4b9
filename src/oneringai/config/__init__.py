"""Configuration: the schema (``schema``), how files and the environment are read (``loading``)
and the generated reference (``reference``).

    from oneringai.config import load_settings, Settings
    settings = load_settings("config/default.yaml", profile="production")
"""

from __future__ import annotations

from oneringai.config.env import ENV_PREFIX
from oneringai.config.loading import (
    DEFAULT_CONFIG_PATHS,
    LoadedConfiguration,
    load_configuration,
    load_settings,
    resolve_config_paths,
)
from oneringai.config.schema import Settings

__all__ = [
    "DEFAULT_CONFIG_PATHS",
    "ENV_PREFIX",
    "LoadedConfiguration",
    "Settings",
    "load_configuration",
    "load_settings",
    "resolve_config_paths",
]
