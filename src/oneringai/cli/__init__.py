"""The ``oneringai`` command: ``main`` (chat, config), ``doctor`` and ``tokens``."""

from oneringai.cli.main import main

__all__ = ["main"]
