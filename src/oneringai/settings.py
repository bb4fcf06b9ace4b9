"""Compatibility: the configuration schema and loader now live in ``oneringai.config``.

``from oneringai.settings import Settings, load_settings`` (and every settings model of
``oneringai.config.schema``) keeps working; new code imports from ``oneringai.config``.
"""

from __future__ import annotations

from oneringai.config import schema as _schema
from oneringai.config.loading import load_settings
from oneringai.config.schema import *  # noqa: F403 - the re-export is the point

__all__ = [*_schema.__all__, "load_settings"]
